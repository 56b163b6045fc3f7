//! The input CSV: `email[,message]` rows, each checked before anything
//! is sent.

use std::io::Read;

use factify_invites::bulk::InviteRow;

/// A checked row of the input, with its line number.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) line: u64,
    pub(super) row: InviteRow,
}

/// Reads and checks every row; all the bad ones are reported together.
pub(super) fn read_rows(input: impl Read) -> Result<Vec<Row>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(input);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: not readable as CSV: {err}"));
                continue;
            }
        };
        let line = record.position().map_or(index as u64 + 1, |p| p.line());
        let email = record.get(0).unwrap_or_default().trim();
        if index == 0 && email.eq_ignore_ascii_case("email") {
            continue;
        }
        if record.len() > 2 {
            problems.push(format!(
                "line {line}: {} fields; expected email[,message] (quote a message that holds commas)",
                record.len()
            ));
            continue;
        }
        let message = record
            .get(1)
            .filter(|message| !message.is_empty())
            .map(str::to_owned);
        let row = InviteRow::new(email, message);
        match row.validate() {
            Ok(()) => rows.push(Row { line, row }),
            Err(err) => problems.push(format!(
                "line {line}: {}: {}",
                err.param().unwrap_or("row"),
                match &err {
                    factify_invites::Error::InvalidRequest { message, .. } => message.clone(),
                    other => other.to_string(),
                } + &format!(" ({email:?})")
            )),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_with_line_numbers_and_every_bad_one_reported() {
        let csv = "email,message\n# a comment\nada@example.com,\"Hi, Ada\"\n\ngrace@example.com\nnope\nx@y.co,a,b\n";
        let problems = read_rows(csv.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 6: email:"), "{problems:?}");
        assert!(problems[1].starts_with("line 7: 3 fields"), "{problems:?}");

        let rows =
            read_rows("ada@example.com,\"Hi, Ada\"\n grace@example.com ,\n".as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[1].line), (1, 2));
        assert_eq!(rows[0].row.message.as_deref(), Some("Hi, Ada"));
        assert_eq!(rows[1].row, InviteRow::new("grace@example.com", None));
    }
}
