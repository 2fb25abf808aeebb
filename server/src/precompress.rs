//! `tollgate precompress <DIR>`: writes `NAME.gz` and `NAME.br` beside each file of the
//! built web client, once at build time (`scripts/build.sh`). The server then sends
//! whichever the browser accepts ([`crate::http::router`]) without compressing anything
//! per request, and at the highest levels, which would be too slow to do per request.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files already compressed, or the variants this writes: compressing them again gains
/// nothing.
const SKIPPED_EXTENSIONS: &[&str] = &[
    "gz", "br", "zst", "png", "jpg", "jpeg", "gif", "webp", "avif", "woff", "woff2", "zip",
];

/// One file of the directory and what its compressed variants weigh, in bytes; `None`
/// where compressing did not make it smaller, so no variant was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub path: PathBuf,
    pub size: u64,
    pub gzip: Option<u64>,
    pub brotli: Option<u64>,
}

/// Compresses every file under `dir` (recursively) with gzip (level 9) and brotli
/// (quality 11). A variant that would not be smaller is not written, and an old one is
/// removed, so the server never sends a larger or stale body.
pub fn precompress_dir(dir: &Path) -> Result<Vec<Compressed>, String> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    files.iter().map(|path| precompress_file(path)).collect()
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir)
        .map_err(|err| format!("cannot read the folder {}: {err}", dir.display()))?;
    for entry in entries {
        let entry =
            entry.map_err(|err| format!("cannot read the folder {}: {err}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        if kind.is_dir() {
            collect_files(&path, files)?;
        } else if kind.is_file() && !is_skipped(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_skipped(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| SKIPPED_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

fn precompress_file(path: &Path) -> Result<Compressed, String> {
    let plain = fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let gzip = gzip(&plain).map_err(|err| format!("cannot gzip {}: {err}", path.display()))?;
    let brotli =
        brotli(&plain).map_err(|err| format!("cannot brotli {}: {err}", path.display()))?;
    Ok(Compressed {
        path: path.to_path_buf(),
        size: plain.len() as u64,
        gzip: keep_if_smaller(path, "gz", &gzip, plain.len())?,
        brotli: keep_if_smaller(path, "br", &brotli, plain.len())?,
    })
}

fn gzip(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(plain)?;
    encoder.finish()
}

fn brotli(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &plain[..], &mut out, &params)?;
    Ok(out)
}

/// Writes `<path>.<ext>` when `bytes` is smaller than the plain file (through a
/// temporary name, so a server reading the folder never sees half a file), else
/// removes an old one. Returns the size written.
fn keep_if_smaller(
    path: &Path,
    ext: &str,
    bytes: &[u8],
    plain: usize,
) -> Result<Option<u64>, String> {
    let target = with_suffix(path, &format!(".{ext}"));
    if bytes.len() >= plain {
        return match fs::remove_file(&target) {
            Ok(()) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(format!("cannot remove {}: {err}", target.display())),
        };
    }
    let temporary = with_suffix(path, &format!(".{ext}.tmp"));
    fs::write(&temporary, bytes)
        .and_then(|()| fs::rename(&temporary, &target))
        .map_err(|err| format!("cannot write {}: {err}", target.display()))?;
    Ok(Some(bytes.len() as u64))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The command: compresses `dir` and prints one line per file.
pub fn run(dir: &Path) -> Result<(), String> {
    let files = precompress_dir(dir)?;
    if files.is_empty() {
        return Err(format!(
            "{} holds no file to compress: build the web client first (scripts/build.sh)",
            dir.display()
        ));
    }
    let shown = |size: Option<u64>| size.map_or_else(|| "-".to_string(), |s| s.to_string());
    for file in &files {
        let name = file.path.strip_prefix(dir).unwrap_or(&file.path);
        println!(
            "{}: {} bytes, gzip {}, brotli {}",
            name.display(),
            file.size,
            shown(file.gzip),
            shown(file.brotli)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tollgate-precompress-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create");
        dir
    }

    #[test]
    fn variants_decompress_to_the_plain_file() {
        let dir = temp_dir("round-trip");
        fs::create_dir_all(dir.join("snippets")).expect("create");
        let text = "function hello() { return 'hello'; }\n".repeat(200);
        fs::write(dir.join("snippets/app.js"), &text).expect("write");
        let files = precompress_dir(&dir).expect("compressed");
        assert_eq!(files.len(), 1);
        assert!(
            files[0].gzip.is_some() && files[0].brotli.is_some(),
            "{files:?}"
        );

        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(fs::File::open(dir.join("snippets/app.js.gz")).expect("gz"))
            .read_to_string(&mut unzipped)
            .expect("gunzip");
        assert_eq!(unzipped, text);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(
            fs::File::open(dir.join("snippets/app.js.br")).expect("br"),
            4096,
        )
        .read_to_string(&mut unbrotlied)
        .expect("unbrotli");
        assert_eq!(unbrotlied, text);

        // Running again compresses the plain files only, not the variants.
        assert_eq!(precompress_dir(&dir).expect("again").len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_variant_that_would_not_be_smaller_is_not_written() {
        let dir = temp_dir("tiny");
        fs::write(dir.join("a.txt"), "a").expect("write");
        fs::write(dir.join("a.txt.gz"), "stale").expect("write");
        let files = precompress_dir(&dir).expect("compressed");
        assert_eq!((files[0].gzip, files[0].brotli), (None, None));
        assert!(!dir.join("a.txt.gz").exists(), "the stale variant is gone");
        let _ = fs::remove_dir_all(&dir);
    }
}
