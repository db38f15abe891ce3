//! Column names as the outputs write them: one spelling for BI tools, made
//! here once so that the segment tables and the team-column match agree.

use unicode_normalization::UnicodeNormalization;

/// Lower-case snake_case of a column name, for BI tools: words split at
/// anything that is not a letter or digit and where camelCase changes case
/// (`OverallRating`, `NPSScore` → `nps_score`), an ALL_CAPS name kept whole
/// (`CUSTOMER_RESPONSE_DATE` → `customer_response_date`), accents dropped
/// (`Qualität` → `qualitat`, `Straße` → `strasse`).
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name
        .replace('ß', "ss")
        .replace('ẞ', "SS")
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_names() {
        for (name, want) in [
            ("OverallRating", "overall_rating"),
            ("Agent Name", "agent_name"),
            ("queue", "queue"),
            ("Food&Beverages", "food_beverages"),
            ("CUSTOMER_RESPONSE_DATE", "customer_response_date"),
            ("CHANNEL", "channel"),
            ("NPSScore", "nps_score"),
            ("npsScore", "nps_score"),
            ("Q1Score", "q1_score"),
            ("responded_at", "responded_at"),
            ("  Région / Land ", "region_land"),
            ("Qualität", "qualitat"),
            ("Straße", "strasse"),
            ("Ça va?", "ca_va"),
            ("ﬁle", "file"),
            ("__x__", "x"),
            ("---", ""),
        ] {
            assert_eq!(super::snake(name), want, "{name:?}");
        }
    }
}
