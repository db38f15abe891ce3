//! Decides which header column holds the score, the comment and the id.
//!
//! Survey tools name these columns in many ways and languages ("NPS Score",
//! "Likelihood to recommend", "Begründung", "Puntuación"), so names are
//! compared after folding case, accents and punctuation away, against lists
//! ordered by how telling a name is. A flag always wins over detection, and
//! every failure names the file, lists the columns and names the flag that
//! fixes it, because the person reading it has the file open, not the code.

use super::{InputError, InputOptions};

/// Score column names, most specific first, already normalised.
pub(super) const SCORE_NAMES: &[&str] = &[
    "score",
    "nps",
    "npsscore",
    "rating",
    "overallrating",
    "recommend",
    "likelihoodtorecommend",
    "ltr",
    "empfehlung",
    "bewertung",
    "weiterempfehlung",
    "cijfer",
    "aanbeveling",
    "note",
    "puntuacion",
    "valoracion",
];

/// Comment column names, most specific first, already normalised.
pub(super) const TEXT_NAMES: &[&str] = &[
    "comment",
    "comments",
    "text",
    "verbatim",
    "feedback",
    "reason",
    "why",
    "answer",
    "opentext",
    "reviewbody",
    "review",
    "kommentar",
    "anmerkung",
    "begruendung",
    "opmerking",
    "toelichting",
    "commentaire",
    "commentaires",
    "comentario",
    "comentarios",
    "motivo",
    // Ticket and case exports (topic-only runs): the message body last, so
    // that a survey's own comment column always wins over them.
    "body",
    "message",
    "description",
    "ticketbody",
    "ticketdescription",
    "nachricht",
    "beschreibung",
    "bericht",
    "omschrijving",
    "mensaje",
    "descripcion",
];

/// Id column names, already normalised.
pub(super) const ID_NAMES: &[&str] = &[
    "id",
    "responseid",
    "respondentid",
    "surveyid",
    "recordid",
    "uuid",
    "ticketid",
    "ticketnumber",
    "caseid",
    "casenumber",
    "interactionid",
    "conversationid",
    "contactid",
    "callid",
];

/// The three roles a column can play; the rest are segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Score,
    Text,
    Id,
    /// Survey weights; never detected, only named (`--weight-column`).
    Weight,
}

impl Role {
    pub(super) fn name(self) -> &'static str {
        match self {
            Role::Score => "score",
            Role::Text => "comment",
            Role::Id => "id",
            Role::Weight => "weight",
        }
    }

    pub(super) fn flag(self) -> &'static str {
        match self {
            Role::Score => "--score-column",
            Role::Text => "--text-column",
            Role::Id => "--id-column",
            Role::Weight => "--weight-column",
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Role::Score => SCORE_NAMES,
            Role::Text => TEXT_NAMES,
            Role::Id => ID_NAMES,
            Role::Weight => &[],
        }
    }

    fn given(self, opts: &InputOptions) -> Option<&str> {
        match self {
            Role::Score => opts.score_column.as_deref(),
            Role::Text => opts.text_column.as_deref(),
            Role::Id => opts.id_column.as_deref(),
            Role::Weight => opts.weight_column.as_deref(),
        }
    }
}

/// Column indices chosen for each role.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Indices {
    /// `None` without scores ([`super::Mode::TopicsOnly`]).
    pub score: Option<usize>,
    pub text: usize,
    pub id: Option<usize>,
    /// Further open questions ([`InputOptions::more_text_columns`]).
    pub more_text: Vec<usize>,
}

/// Lower-cases, spells out umlauts and ß as German does, drops other
/// accents, and keeps only letters and digits: "Begründung" → "begruendung",
/// "Puntuación" → "puntuacion", "Likelihood to recommend (0-10)" →
/// "likelihoodtorecommend010".
pub(super) fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'à' | 'á' | 'â' | 'ã' | 'å' => out.push('a'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ò' | 'ó' | 'ô' | 'õ' => out.push('o'),
            'ù' | 'ú' | 'û' => out.push('u'),
            'ñ' => out.push('n'),
            'ç' => out.push('c'),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// Resolves all three roles: flags first, then detection among the columns
/// no flag took. Score and comment are required, the id is optional; a run
/// without scores ([`super::Mode::TopicsOnly`]) neither looks for a score
/// column nor takes one (a column named `score` stays a segment).
pub(super) fn resolve(
    header: &[String],
    opts: &InputOptions,
    file: &str,
) -> Result<Indices, InputError> {
    const ROLES: [Role; 3] = [Role::Score, Role::Text, Role::Id];
    let scored = opts.mode.scored();
    let wanted = |role: Role| scored || role != Role::Score;
    let normalised: Vec<String> = header.iter().map(|h| normalise(h)).collect();
    let mut slots: [Option<usize>; 3] = [None; 3];
    for (k, role) in ROLES.into_iter().enumerate() {
        if !wanted(role) {
            continue;
        }
        if let Some(given) = role.given(opts) {
            let idx = find_given(header, &normalised, given, role, file)?;
            if let Some(other) = slots.iter().position(|&s| s == Some(idx)) {
                return Err(InputError::SameColumn {
                    file: file.to_string(),
                    column: super::escape_name(&header[idx]),
                    first: ROLES[other].name(),
                    second: role.name(),
                    flag: role.flag(),
                });
            }
            slots[k] = Some(idx);
        }
    }
    for (k, role) in ROLES.into_iter().enumerate() {
        if slots[k].is_none() && wanted(role) {
            let taken: Vec<usize> = slots.iter().flatten().copied().collect();
            slots[k] = detect(&normalised, role, &taken);
        }
    }
    let required = |k: usize| {
        slots[k].ok_or_else(|| InputError::ColumnNotDetected {
            file: file.to_string(),
            role: ROLES[k].name(),
            flag: ROLES[k].flag(),
            looked_for: ROLES[k].names().join(", "),
            columns: list(header),
            or: match ROLES[k] {
                Role::Score => ", or --no-score to analyse topics and sentiment only (no NPS)",
                _ => "",
            },
        })
    };
    let score = if scored { Some(required(0)?) } else { None };
    let (text, id) = (required(1)?, slots[2]);
    let mut more_text: Vec<usize> = Vec::with_capacity(opts.more_text_columns.len());
    for given in &opts.more_text_columns {
        let idx = find_given(header, &normalised, given, Role::Text, file)?;
        let taken = score
            .map(|s| (s, Role::Score))
            .into_iter()
            .chain([(text, Role::Text)])
            .chain(id.map(|i| (i, Role::Id)))
            .chain(more_text.iter().map(|&i| (i, Role::Text)));
        for (i, role) in taken {
            if i == idx {
                return Err(InputError::SameColumn {
                    file: file.to_string(),
                    column: super::escape_name(&header[idx]),
                    first: role.name(),
                    second: Role::Text.name(),
                    flag: Role::Text.flag(),
                });
            }
        }
        more_text.push(idx);
    }
    Ok(Indices {
        score,
        text,
        id,
        more_text,
    })
}

/// The weight column named by `--weight-column`, found as the other flags'
/// columns are; `None` when no weight column is given. It must not be the
/// score, comment or id column.
pub(super) fn resolve_weight(
    header: &[String],
    idx: &Indices,
    opts: &InputOptions,
    file: &str,
) -> Result<Option<usize>, InputError> {
    let Some(given) = Role::Weight.given(opts) else {
        return Ok(None);
    };
    let normalised: Vec<String> = header.iter().map(|h| normalise(h)).collect();
    let found = find_given(header, &normalised, given, Role::Weight, file)?;
    let taken = idx
        .score
        .map(|s| (s, Role::Score))
        .into_iter()
        .chain([(idx.text, Role::Text)])
        .chain(idx.id.map(|i| (i, Role::Id)))
        .chain(idx.more_text.iter().map(|&i| (i, Role::Text)));
    for (i, role) in taken {
        if i == found {
            return Err(InputError::SameColumn {
                file: file.to_string(),
                column: super::escape_name(&header[found]),
                first: role.name(),
                second: Role::Weight.name(),
                flag: Role::Weight.flag(),
            });
        }
    }
    Ok(Some(found))
}

/// A flag's column: the exact (trimmed) name first, else the one column
/// whose normalised name matches.
fn find_given(
    header: &[String],
    normalised: &[String],
    given: &str,
    role: Role,
    file: &str,
) -> Result<usize, InputError> {
    let given_trimmed = given.trim();
    if let Some(idx) = header.iter().position(|h| h == given_trimmed) {
        return Ok(idx);
    }
    let want = normalise(given);
    let matches: Vec<usize> = (0..header.len())
        .filter(|&i| !want.is_empty() && normalised[i] == want)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(InputError::ColumnNotFound {
            file: file.to_string(),
            given: super::escape_name(given),
            flag: role.flag(),
            columns: list(header),
        }),
        several => Err(InputError::ColumnAmbiguous {
            file: file.to_string(),
            given: super::escape_name(given),
            flag: role.flag(),
            matches: list(
                &several
                    .iter()
                    .map(|&i| header[i].clone())
                    .collect::<Vec<_>>(),
            ),
        }),
    }
}

/// The first column, not already taken, matching the earliest name in the
/// role's list.
fn detect(normalised: &[String], role: Role, taken: &[usize]) -> Option<usize> {
    role.names().iter().find_map(|name| {
        (0..normalised.len()).find(|&i| !taken.contains(&i) && normalised[i] == *name)
    })
}

/// "`a`, `b`, `c`" for messages; after the first 50, "… and N more", so
/// that a hostile header does not make a message of megabytes. Control
/// characters are escaped ([`super::escape_name`]).
pub(super) fn list(names: &[String]) -> String {
    const SHOWN: usize = 50;
    let mut out = names
        .iter()
        .take(SHOWN)
        .map(|n| match n.char_indices().nth(80) {
            Some((end, _)) => format!("`{}…`", super::escape_name(&n[..end])),
            None => format!("`{}`", super::escape_name(n)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" … and {} more", names.len() - SHOWN));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn opts(score: Option<&str>, text: Option<&str>, id: Option<&str>) -> InputOptions {
        InputOptions {
            score_column: score.map(str::to_string),
            text_column: text.map(str::to_string),
            id_column: id.map(str::to_string),
            ..InputOptions::default()
        }
    }

    #[test]
    fn normalise_folds_case_accents_and_punctuation() {
        assert_eq!(normalise("NPS Score"), "npsscore");
        assert_eq!(
            normalise("Likelihood_to-Recommend"),
            "likelihoodtorecommend"
        );
        assert_eq!(normalise("Begründung"), "begruendung");
        assert_eq!(normalise("Puntuación"), "puntuacion");
        assert_eq!(normalise("Valoración"), "valoracion");
        assert_eq!(normalise(" Response ID "), "responseid");
        assert_eq!(normalise("Commentaire(s)"), "commentaires");
    }

    #[test]
    fn detects_the_body_and_id_of_ticket_exports_after_survey_names() {
        let ticket = header(&["Ticket ID", "Subject", "Body", "Queue", "Created"]);
        let no_score = InputOptions {
            mode: super::super::Mode::TopicsOnly,
            ..InputOptions::default()
        };
        let idx = resolve(&ticket, &no_score, "t.csv").unwrap();
        assert_eq!((idx.text, idx.id), (2, Some(0)));
        // A survey's comment column is preferred to a description beside it.
        let both = header(&["Case Number", "Description", "Comment"]);
        let idx = resolve(&both, &no_score, "t.csv").unwrap();
        assert_eq!((idx.text, idx.id), (2, Some(0)));
        let nl = header(&["Omschrijving", "Contact ID"]);
        let idx = resolve(&nl, &no_score, "t.csv").unwrap();
        assert_eq!((idx.text, idx.id), (0, Some(1)));
    }

    #[test]
    fn detects_common_names_in_many_languages() {
        let cases: [(&[&str], Indices); 4] = [
            (
                &["Response ID", "NPS Score", "Comment", "Channel"],
                Indices {
                    score: Some(1),
                    text: 2,
                    id: Some(0),
                    more_text: vec![],
                },
            ),
            (
                &["Kanal", "Weiterempfehlung", "Begründung"],
                Indices {
                    score: Some(1),
                    text: 2,
                    id: None,
                    more_text: vec![],
                },
            ),
            (
                &["Puntuación", "Motivo", "UUID"],
                Indices {
                    score: Some(0),
                    text: 1,
                    id: Some(2),
                    more_text: vec![],
                },
            ),
            (
                &["Toelichting", "Cijfer"],
                Indices {
                    score: Some(1),
                    text: 0,
                    id: None,
                    more_text: vec![],
                },
            ),
        ];
        for (names, want) in cases {
            let got = resolve(&header(names), &InputOptions::default(), "f.csv");
            assert_eq!(got.ok(), Some(want), "{names:?}");
        }
    }

    #[test]
    fn earlier_name_in_the_list_wins() {
        // "reason" and "comment" both present: "comment" is earlier in the list.
        let h = header(&["reason", "rating", "comment", "score"]);
        let got = resolve(&h, &InputOptions::default(), "f.csv").ok();
        assert_eq!(
            got,
            Some(Indices {
                score: Some(3),
                text: 2,
                id: None,
                more_text: vec![],
            })
        );
    }

    #[test]
    fn flags_win_and_match_loosely() {
        let h = header(&["Q1 (0-10)", "Q2 open", "comment", "score"]);
        let o = opts(Some("q1 (0-10)"), Some("Q2 open"), None);
        let got = resolve(&h, &o, "f.csv").ok();
        assert_eq!(
            got,
            Some(Indices {
                score: Some(0),
                text: 1,
                id: None,
                more_text: vec![],
            })
        );
    }

    #[test]
    fn errors_name_file_columns_and_flag() {
        let h = header(&["a", "b"]);
        let msg = resolve(&h, &InputOptions::default(), "survey.csv")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("survey.csv"), "{msg}");
        assert!(msg.contains("no score column"), "{msg}");
        assert!(msg.contains("`a`, `b`"), "{msg}");
        assert!(msg.contains("--score-column"), "{msg}");
        // The way out for an export without scores.
        assert!(msg.contains("or --no-score"), "{msg}");

        let h = header(&["score", "b"]);
        let msg = resolve(&h, &InputOptions::default(), "survey.csv")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("no comment column") && msg.contains("--text-column"),
            "{msg}"
        );

        let o = opts(None, None, Some("ticket"));
        let h = header(&["score", "comment"]);
        let msg = resolve(&h, &o, "survey.csv")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("`ticket`") && msg.contains("--id-column"),
            "{msg}"
        );
        assert!(msg.contains("`score`, `comment`"), "{msg}");
    }

    #[test]
    fn without_scores_no_score_column_is_looked_for() {
        let topics_only = InputOptions {
            mode: super::super::Mode::TopicsOnly,
            ..InputOptions::default()
        };
        // No score column: found nonetheless, and a column named `score`
        // is no score (it stays a segment).
        for (names, text) in [(&["id", "comment"][..], 1), (&["score", "comment"][..], 1)] {
            let got = resolve(&header(names), &topics_only, "f.csv").ok();
            assert_eq!(
                got,
                Some(Indices {
                    score: None,
                    text,
                    id: names.iter().position(|n| *n == "id"),
                    more_text: vec![],
                }),
                "{names:?}"
            );
        }
        // The comment column is still required, without the score's hint.
        let msg = resolve(&header(&["a", "b"]), &topics_only, "f.csv")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("no comment column") && !msg.contains("--no-score"),
            "{msg}"
        );
    }

    #[test]
    fn same_column_twice_and_ambiguous_flag() {
        let h = header(&["score", "comment"]);
        let o = opts(Some("score"), Some("score"), None);
        let err = resolve(&h, &o, "f.csv").err();
        assert!(
            matches!(err, Some(InputError::SameColumn { .. })),
            "{err:?}"
        );

        let h = header(&["Score A", "score-a", "comment"]);
        let o = opts(Some("SCORE_A"), None, None);
        let err = resolve(&h, &o, "f.csv").err();
        assert!(
            matches!(err, Some(InputError::ColumnAmbiguous { .. })),
            "{err:?}"
        );
    }
}
