//! Column names as the outputs write them: one spelling for BI tools, made
//! here once so that the segment tables and the team-column match agree.

/// Lower-case snake_case of a column name, for BI tools.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_us = true;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && !prev_us && out.chars().last().is_some_and(char::is_lowercase) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_us = false;
        } else if !prev_us {
            out.push('_');
            prev_us = true;
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_names() {
        assert_eq!(super::snake("OverallRating"), "overall_rating");
        assert_eq!(super::snake("Agent Name"), "agent_name");
        assert_eq!(super::snake("queue"), "queue");
        assert_eq!(super::snake("Food&Beverages"), "food_beverages");
    }
}
