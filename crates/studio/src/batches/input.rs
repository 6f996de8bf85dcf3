//! A batch's list, as the user gives it: one prompt per line, CSV with one column per field,
//! or JSON Lines with one object per line; or N copies of the form (variations). Read here
//! into one input per item, each starting from the form's values, with every problem named
//! by its line. Pure: no catalogue rule is checked here (see `batches::plan`).

use serde_json::{Map, Value};

use super::{BatchFormat, LineProblem, MAX_ITEMS, MAX_VARIATIONS};

/// One item as read: its line in what the user gave (1-based; the copy's number for
/// variations) and its input (the form's values with the line's on top).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadItem {
    pub line: u32,
    pub input: Map<String, Value>,
}

/// A cell or flag value: a JSON array or object is read as JSON (a list of links), anything
/// else is the text as given (the catalogue's validation reads numbers and yes/no from text).
pub fn cell_value(raw: &str) -> Value {
    let t = raw.trim();
    if (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('{') && t.ends_with('}')) {
        if let Ok(v) = serde_json::from_str(t) {
            return v;
        }
    }
    Value::String(raw.to_string())
}

fn problem(line: u32, field: &str, rule: &str, message: String) -> LineProblem {
    LineProblem { line, field: field.to_string(), rule: rule.to_string(), message }
}

/// The items of `text` in `format`, each on top of `base`. `prompt_field`: where a plain line
/// goes (`None`: the model has no prompt). `fields`: the model's field names (a CSV column
/// or JSON key that is none of them is a problem, not silently dropped).
pub fn read(
    format: BatchFormat,
    text: &str,
    count: u32,
    base: &Map<String, Value>,
    prompt_field: Option<&str>,
    fields: &[&str],
) -> Result<Vec<ReadItem>, Vec<LineProblem>> {
    let (items, mut problems) = match format {
        BatchFormat::Variations => {
            if !(1..=MAX_VARIATIONS).contains(&count) {
                let msg = format!("Variations: choose 1 to {MAX_VARIATIONS} (got {count}).");
                return Err(vec![problem(0, "count", "out_of_range", msg)]);
            }
            ((1..=count).map(|line| ReadItem { line, input: base.clone() }).collect(), Vec::new())
        }
        BatchFormat::Lines => lines(text, base, prompt_field),
        BatchFormat::Csv => csv_rows(text, base, fields),
        BatchFormat::Jsonl => json_lines(text, base, fields),
    };
    if items.is_empty() && problems.is_empty() {
        problems.push(problem(0, "text", "required", "The list is empty: give one item per line.".into()));
    }
    if items.len() > MAX_ITEMS {
        let msg = format!("A batch holds at most {MAX_ITEMS} items; this list has {}.", items.len());
        problems.push(problem(0, "text", "too_many", msg));
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

fn lines(text: &str, base: &Map<String, Value>, prompt_field: Option<&str>) -> (Vec<ReadItem>, Vec<LineProblem>) {
    let Some(prompt) = prompt_field else {
        let msg = "This model has no prompt, so a list of prompts cannot drive it: use CSV or JSON Lines, one \
                   column or key per field."
            .to_string();
        return (Vec::new(), vec![problem(0, "text", "no_prompt", msg)]);
    };
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut input = base.clone();
        input.insert(prompt.to_string(), Value::String(line.trim().to_string()));
        items.push(ReadItem { line: i as u32 + 1, input });
    }
    (items, Vec::new())
}

fn csv_rows(text: &str, base: &Map<String, Value>, fields: &[&str]) -> (Vec<ReadItem>, Vec<LineProblem>) {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::Headers).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return (Vec::new(), vec![problem(1, "text", "bad_format", format!("Line 1: {e}"))]),
    };
    for (i, h) in headers.iter().enumerate() {
        if h.is_empty() {
            problems.push(problem(1, "text", "bad_format", format!("Line 1: column {} has no name.", i + 1)));
        } else if !fields.contains(&h.as_str()) {
            let msg =
                format!("Line 1: the column `{h}` is not a field of this model (its fields: {}).", fields.join(", "));
            problems.push(problem(1, h, "unknown_field", msg));
        } else if headers[..i].contains(h) {
            problems.push(problem(1, h, "bad_format", format!("Line 1: the column `{h}` is given twice.")));
        }
    }
    let mut items = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as u32).unwrap_or(0);
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("Line {line}: {len} cells, but the first line names {expected_len} columns.")
                    }
                    _ => format!("Line {line}: {e}"),
                };
                problems.push(problem(line, "text", "bad_format", msg));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as u32).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut input = base.clone();
        for (h, cell) in headers.iter().zip(record.iter()) {
            // An empty cell leaves the form's value.
            if !cell.trim().is_empty() {
                input.insert(h.clone(), cell_value(cell));
            }
        }
        items.push(ReadItem { line, input });
    }
    (items, problems)
}

fn json_lines(text: &str, base: &Map<String, Value>, fields: &[&str]) -> (Vec<ReadItem>, Vec<LineProblem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let obj = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(obj)) => obj,
            Ok(_) => {
                let msg = format!("Line {line}: expected a JSON object ({{\"prompt\": \"…\"}}), one per line.");
                problems.push(problem(line, "text", "bad_format", msg));
                continue;
            }
            Err(e) => {
                problems.push(problem(line, "text", "bad_format", format!("Line {line}: not JSON: {e}.")));
                continue;
            }
        };
        let mut input = base.clone();
        for (k, v) in obj {
            if !fields.contains(&k.as_str()) {
                let msg =
                    format!("Line {line}: `{k}` is not a field of this model (its fields: {}).", fields.join(", "));
                problems.push(problem(line, &k, "unknown_field", msg));
                continue;
            }
            input.insert(k, v);
        }
        items.push(ReadItem { line, input });
    }
    (items, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Map<String, Value> {
        json!({"duration": "10", "prompt": "form prompt"}).as_object().unwrap().clone()
    }
    const FIELDS: &[&str] = &["prompt", "duration", "image_urls"];

    fn prompts(items: &[ReadItem]) -> Vec<(u32, String)> {
        items.iter().map(|i| (i.line, i.input["prompt"].as_str().unwrap().to_string())).collect()
    }

    #[test]
    fn one_prompt_per_line_skipping_blank_lines_and_keeping_line_numbers() {
        let items =
            read(BatchFormat::Lines, "a fox\n\n  an owl  \r\nbees\n", 0, &base(), Some("prompt"), FIELDS).unwrap();
        assert_eq!(prompts(&items), [(1, "a fox".into()), (3, "an owl".into()), (4, "bees".into())]);
        assert_eq!(items[0].input["duration"], json!("10"), "the form's values are the start");
        let e = read(BatchFormat::Lines, "x", 0, &base(), None, FIELDS).unwrap_err();
        assert_eq!(e[0].rule, "no_prompt");
        let e = read(BatchFormat::Lines, " \n\n", 0, &base(), Some("prompt"), FIELDS).unwrap_err();
        assert_eq!(e[0].rule, "required");
    }

    #[test]
    fn csv_columns_are_fields_and_problems_name_their_line() {
        let text = "prompt,duration,image_urls\n\"a fox, running\",15,./fox.png\nan owl,,\n";
        let items = read(BatchFormat::Csv, text, 0, &base(), Some("prompt"), FIELDS).unwrap();
        assert_eq!(prompts(&items), [(2, "a fox, running".into()), (3, "an owl".into())]);
        assert_eq!(items[0].input["duration"], json!("15"));
        assert_eq!(items[0].input["image_urls"], json!("./fox.png"));
        assert_eq!(items[1].input["duration"], json!("10"), "an empty cell keeps the form's value");

        let bad = "prompt,colour\na,red\nb\n";
        let e = read(BatchFormat::Csv, bad, 0, &base(), Some("prompt"), FIELDS).unwrap_err();
        assert_eq!(
            e.iter().map(|p| (p.line, p.rule.as_str())).collect::<Vec<_>>(),
            [(1, "unknown_field"), (3, "bad_format")]
        );
        assert!(e[1].message.starts_with("Line 3: 1 cells, but the first line names 2 columns"), "{}", e[1].message);
    }

    #[test]
    fn json_lines_each_an_object() {
        let text = "{\"prompt\": \"a\", \"image_urls\": [\"x.png\"]}\n\n[1]\n{\"prompt\": \"c\", \"nope\": 1}\n{bad\n";
        let e = read(BatchFormat::Jsonl, text, 0, &base(), Some("prompt"), FIELDS).unwrap_err();
        assert_eq!(e.iter().map(|p| p.line).collect::<Vec<_>>(), [3, 4, 5]);
        let items =
            read(BatchFormat::Jsonl, "{\"prompt\": \"a\", \"image_urls\": [\"x.png\"]}", 0, &base(), None, FIELDS)
                .unwrap();
        assert_eq!(items[0].input["image_urls"], json!(["x.png"]));
    }

    #[test]
    fn variations_are_copies_of_the_form_one_to_four() {
        let items = read(BatchFormat::Variations, "", 3, &base(), Some("prompt"), FIELDS).unwrap();
        assert_eq!(items.iter().map(|i| i.line).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(items.iter().all(|i| i.input == base()));
        for n in [0, 5] {
            assert_eq!(
                read(BatchFormat::Variations, "", n, &base(), None, FIELDS).unwrap_err()[0].rule,
                "out_of_range"
            );
        }
    }

    #[test]
    fn too_many_items() {
        let text = "p\n".repeat(MAX_ITEMS + 1);
        let e = read(BatchFormat::Lines, &text, 0, &base(), Some("prompt"), FIELDS).unwrap_err();
        assert_eq!(e[0].rule, "too_many");
    }
}
