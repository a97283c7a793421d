//! Working-day calendars per jurisdiction: which weekdays are the weekend and which dates are
//! public holidays. Loaded from `workflows/calendars/<CC>.toml`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::Deserialize;
use std::collections::BTreeSet;

/// A country's working-day calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub weekend: Vec<Weekday>,
    pub holidays: BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    /// Saturday and Sunday off, no holidays: used where a country has no calendar file.
    fn default() -> Self {
        Calendar {
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: BTreeSet::new(),
        }
    }
}

impl Calendar {
    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.weekend.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// `start` moved forward by `days` working days (same time of day).
    pub fn add_working_days(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let mut due = start;
        let mut left = days;
        while left > 0 {
            due += Duration::days(1);
            if self.is_working_day(due.date_naive()) {
                left -= 1;
            }
        }
        due
    }
}

/// The file format of `workflows/calendars/<CC>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default = "default_weekend")]
    pub weekend: Vec<String>,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

fn default_weekend() -> Vec<String> {
    vec!["SAT".into(), "SUN".into()]
}

impl RawCalendar {
    /// Checks the file and builds the calendar.
    pub fn build(self) -> Result<(String, Calendar), String> {
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "country `{}` is not an ISO 3166-1 alpha-2 code",
                self.country
            ));
        }
        let weekend = self
            .weekend
            .iter()
            .map(|d| match d.as_str() {
                "MON" => Ok(Weekday::Mon),
                "TUE" => Ok(Weekday::Tue),
                "WED" => Ok(Weekday::Wed),
                "THU" => Ok(Weekday::Thu),
                "FRI" => Ok(Weekday::Fri),
                "SAT" => Ok(Weekday::Sat),
                "SUN" => Ok(Weekday::Sun),
                other => Err(format!("`{other}` is not a weekday (MON … SUN)")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if weekend.len() >= 7 {
            return Err("a week needs at least one working day".into());
        }
        Ok((
            self.country,
            Calendar {
                weekend,
                holidays: self.holidays.into_iter().collect(),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let friday = Utc.with_ymd_and_hms(2026, 12, 18, 9, 0, 0).unwrap();
        let plain = Calendar::default();
        assert_eq!(
            plain.add_working_days(friday, 5),
            friday + Duration::days(7)
        );
        let mut uk = Calendar::default();
        uk.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
        uk.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
        // Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25 holiday, weekend, Mon 28 holiday) Tue 29.
        assert_eq!(uk.add_working_days(friday, 5), friday + Duration::days(11));
    }

    #[test]
    fn calendars_are_checked() {
        let raw = RawCalendar {
            country: "gb".into(),
            weekend: default_weekend(),
            holidays: vec![],
        };
        assert!(raw.build().is_err());
        let raw = RawCalendar {
            country: "AE".into(),
            weekend: vec!["FRI".into(), "SAT".into()],
            holidays: vec![],
        };
        let (_, c) = raw.build().unwrap();
        assert!(
            c.is_working_day(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()),
            "Sunday works in AE"
        );
    }
}
