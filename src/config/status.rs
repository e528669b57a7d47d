//! `[status]`: the public status page — its title and branding, and the
//! components whose state responders set from Slack. Checked at load.

use serde::Deserialize;

use super::ConfigError;

/// The `[status]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusSettings {
    pub title: String,
    /// A logo shown at the top of the page (an `https://` URL).
    pub logo_url: Option<String>,
    /// The accent colour (`#rrggbb`).
    pub accent: String,
    pub components: Vec<ComponentSettings>,
}

impl Default for StatusSettings {
    fn default() -> Self {
        Self {
            title: "Status".into(),
            logo_url: None,
            accent: "#0b5cad".into(),
            components: Vec::new(),
        }
    }
}

/// One `[[status.components]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSettings {
    pub name: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl StatusSettings {
    /// The configured component `name` names, ignoring case.
    pub fn component(&self, name: &str) -> Option<&ComponentSettings> {
        self.components
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let bad = |name: &'static str, message: String| ConfigError::BadValue { name, message };
        if self.title.trim().is_empty() || self.title.chars().count() > 100 {
            return Err(bad("status.title", "must be 1-100 characters".into()));
        }
        let hex = self.accent.len() == 7
            && self.accent.starts_with('#')
            && self.accent[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !hex {
            return Err(bad(
                "status.accent",
                format!("{:?} is not a #rrggbb colour", self.accent),
            ));
        }
        if let Some(logo) = &self.logo_url
            && !logo.starts_with("https://")
        {
            return Err(bad("status.logo_url", "must be an https:// URL".into()));
        }
        if self.components.len() > crate::views::card::MAX_COMPONENTS_ON_CARD {
            return Err(bad(
                "status.components",
                format!(
                    "at most {} components (the card's impact select holds no more)",
                    crate::views::card::MAX_COMPONENTS_ON_CARD
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for component in &self.components {
            let name = component.name.trim();
            let name_ok = !name.is_empty() && name.chars().count() <= 64 && !name.contains(char::is_whitespace);
            if !name_ok {
                return Err(bad(
                    "status.components",
                    format!("{name:?}: a name is 1-64 characters without spaces (it is typed in `/incident impact`)"),
                ));
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(bad("status.components", format!("two components are named {name:?}")));
            }
        }
        Ok(())
    }
}
