-- Gates with a form (issue 13): the options and inputs the approver fills in (JSON of
-- `GateForm`, null for a plain yes/no gate), and what the approval chose: the option
-- and the inputs (JSON object), which the jobs after the gate receive.
alter table jobs add column gate_form text;
alter table jobs add column decision_option text;
alter table jobs add column decision_inputs text;
