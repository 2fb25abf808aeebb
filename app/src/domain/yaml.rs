//! A pipeline written as YAML, by hand.
//!
//! Only [`Pipeline`]'s own shape is ever written, so a few lines replace a general YAML
//! serializer, which was about 14 KB of the browser's gzip wasm (the Constructor's live
//! preview writes YAML on every edit). Scalars are plain where YAML cannot read them as
//! anything else, literal blocks (`|`) for readable multi-line scripts, and
//! double-quoted with escapes otherwise, so every pipeline reads back as itself (the
//! tests parse the output with the server's parser).

use std::fmt::Write;

use serde_json::Value;

use super::gate_form::{InputSpec, OnTimeout};
use super::network::{Network, NetworkKeyword};
use super::pipeline::{GateSpec, JobSpec, Pipeline};

/// Longest key, as written, that YAML reads without the explicit `? ` form (its limit
/// is 1024 characters).
const MAX_IMPLICIT_KEY: usize = 1000;

/// `pipeline` as a YAML document.
pub fn to_yaml(pipeline: &Pipeline) -> String {
    let mut out = String::new();
    out.push_str("name: ");
    scalar(&mut out, &pipeline.name, 0);
    out.push('\n');
    list(&mut out, "notify", &pipeline.notify, 0);
    if pipeline.jobs.is_empty() {
        out.push_str("jobs: []\n");
        return out;
    }
    out.push_str("jobs:\n");
    for job in &pipeline.jobs {
        write_job(&mut out, job);
    }
    out
}

/// One job as an item of the `jobs` list, its fields four spaces in.
fn write_job(out: &mut String, job: &JobSpec) {
    out.push_str("  - id: ");
    scalar(out, &job.id, 4);
    out.push_str("\n    run: ");
    scalar(out, &job.run, 4);
    out.push('\n');
    list(out, "depends_on", &job.depends_on, 4);
    if !job.env.is_empty() {
        out.push_str("    env:\n");
        for (name, value) in &job.env {
            out.push_str("      ");
            key(out, name, 6);
            scalar(out, value, 6);
            out.push('\n');
        }
    }
    if let Some(timeout) = job.timeout {
        let _ = writeln!(out, "    timeout: {timeout}");
    }
    if let Some(gate) = &job.gate {
        out.push_str("    gate:\n");
        write_gate(out, gate);
    }
    if let Some(when) = &job.when {
        out.push_str("    when:\n      gate: ");
        scalar(out, &when.gate, 6);
        out.push_str("\n      option: ");
        scalar(out, &when.option, 6);
        out.push('\n');
    }
    match &job.network {
        None => {}
        Some(Network::Keyword(NetworkKeyword::None)) => out.push_str("    network: none\n"),
        Some(Network::Connect(ports)) => {
            let ports: Vec<String> = ports.connect.iter().map(u16::to_string).collect();
            let _ = writeln!(out, "    network:\n      connect: [{}]", ports.join(", "));
        }
    }
}

/// A gate's fields, six spaces in; the fields a default gate has are left out, as the
/// model's serde attributes leave them out of JSON.
fn write_gate(out: &mut String, gate: &GateSpec) {
    out.push_str("      message: ");
    scalar(out, &gate.message, 6);
    out.push('\n');
    if let Some(timeout) = gate.timeout {
        let _ = writeln!(out, "      timeout: {timeout}");
    }
    list(out, "approvers", &gate.approvers, 6);
    if let Some(approvals) = gate.approvals {
        let _ = writeln!(out, "      approvals: {approvals}");
    }
    if gate.allow_self_approval {
        out.push_str("      allow_self_approval: true\n");
    }
    list(out, "options", &gate.options, 6);
    if !gate.inputs.is_empty() {
        out.push_str("      inputs:\n");
        for input in &gate.inputs {
            write_input(out, input);
        }
    }
    if let Some(environment) = &gate.environment {
        out.push_str("      environment: ");
        scalar(out, environment, 6);
        out.push('\n');
    }
    match &gate.on_timeout {
        OnTimeout::Fail => {}
        OnTimeout::Approve => out.push_str("      on_timeout: approve\n"),
        OnTimeout::Option(name) => {
            out.push_str("      on_timeout:\n        option: ");
            scalar(out, name, 8);
            out.push('\n');
        }
    }
}

/// One input of a gate's form as a block map in the `inputs` list.
fn write_input(out: &mut String, input: &InputSpec) {
    out.push_str("        - name: ");
    scalar(out, &input.name, 10);
    let _ = writeln!(out, "\n          type: {}", input.kind.as_str());
    if input.required {
        out.push_str("          required: true\n");
    }
    if let Some(default) = &input.default {
        out.push_str("          default: ");
        match default {
            Value::String(text) => scalar(out, text, 10),
            // Numbers, booleans and null read back the same in YAML as in JSON, and so
            // do lists and maps in JSON's flow syntax.
            other => out.push_str(&other.to_string()),
        }
        out.push('\n');
    }
    for (name, bound) in [("min", &input.min), ("max", &input.max)] {
        if let Some(bound) = bound {
            let _ = writeln!(out, "          {name}: {bound}");
        }
    }
    if let Some(pattern) = &input.pattern {
        out.push_str("          pattern: ");
        scalar(out, pattern, 10);
        out.push('\n');
    }
    list(out, "values", &input.values, 10);
}

/// `name:` and a block list of `items` at `indent`, or nothing for an empty list.
fn list(out: &mut String, name: &str, items: &[String], indent: usize) {
    if items.is_empty() {
        return;
    }
    push_spaces(out, indent);
    out.push_str(name);
    out.push_str(":\n");
    for item in items {
        push_spaces(out, indent + 2);
        out.push_str("- ");
        scalar(out, item, indent + 4);
        out.push('\n');
    }
}

/// A map key and its `: `; a long key takes the explicit form (`? key` then `: `).
fn key(out: &mut String, text: &str, indent: usize) {
    if is_plain(text) && text.len() <= MAX_IMPLICIT_KEY {
        out.push_str(text);
    } else {
        let mut written = String::new();
        quoted(&mut written, text);
        if written.len() <= MAX_IMPLICIT_KEY {
            out.push_str(&written);
        } else {
            out.push_str("? ");
            out.push_str(&written);
            out.push('\n');
            push_spaces(out, indent);
        }
    }
    out.push_str(": ");
}

/// A value whose line starts `indent` spaces in (a block's lines go two further).
fn scalar(out: &mut String, text: &str, indent: usize) {
    if is_plain(text) {
        out.push_str(text);
    } else if fits_literal_block(text) {
        literal_block(out, text, indent + 2);
    } else {
        quoted(out, text);
    }
}

/// Whether `text` reads back as this same string when written bare: one line, no
/// leading or trailing space, no character that starts other YAML syntax, no `: ` or
/// ` #` inside, and not a word or number YAML would take for a boolean, null or number.
fn is_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    // A leading digit, sign or dot may be a number, a date or `.inf`: quote it.
    if !(first.is_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if text.ends_with([' ', ':']) || text.contains(": ") || text.contains(" #") {
        return false;
    }
    if text.chars().any(|c| !is_printable(c) || c == '\t') {
        return false;
    }
    const WORDS: [&str; 13] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "infinity",
        "none",
    ];
    !WORDS.iter().any(|word| text.eq_ignore_ascii_case(word))
}

/// Characters YAML allows unescaped (besides the line break, which is handled apart).
fn is_printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ))
}

/// Whether `text` (a script, typically) can be a literal block: it has several lines,
/// only tabs and printable characters, no line of spaces alone (a block would read it
/// as empty) and no leading space on its first line (a block takes its indentation
/// from there).
fn fits_literal_block(text: &str) -> bool {
    if !text.contains('\n') || text.contains('\r') {
        return false;
    }
    if text
        .chars()
        .any(|c| c != '\n' && c != '\t' && !is_printable(c))
    {
        return false;
    }
    let mut lines = text.split('\n').filter(|line| !line.is_empty());
    match lines.next() {
        Some(first) if !first.starts_with([' ', '\t']) => {}
        _ => return false,
    }
    !text
        .split('\n')
        .any(|line| !line.is_empty() && line.trim_start_matches([' ', '\t']).is_empty())
}

/// `text` as `|` (one final line break), `|-` (none) or `|+` (several), its lines at
/// `indent`.
fn literal_block(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let breaks = text.len() - body.len();
    out.push_str(match breaks {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_spaces(out, indent);
            out.push_str(line);
        }
    }
    // `|+` keeps the empty lines after the last one.
    for _ in 1..breaks {
        out.push('\n');
    }
}

/// `text` double-quoted, with YAML's escapes for what cannot appear as itself.
fn quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !is_printable(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_spaces(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}

#[cfg(test)]
mod tests;
