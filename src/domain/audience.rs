//! Who reads what Rebound writes, and so whether a private channel's
//! content may be shown. Membership comes from Slack (cached by the store
//! from `conversations.members` and kept current from member events);
//! this module only decides.

use std::collections::BTreeSet;

/// The readers of one reply or post.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Everyone in a channel: a post, a thread reply, the digest.
    Channel(&'a str),
    /// One person (an ephemeral reply) in `channel`, with the private
    /// channels they are a member of.
    Person {
        channel: &'a str,
        member_of: &'a BTreeSet<String>,
    },
}

impl Audience<'_> {
    /// May these readers see what private channel `channel_id` holds? A
    /// channel's own readers may; one person may if they are a member.
    pub fn may_read(&self, channel_id: &str) -> bool {
        match self {
            Audience::Channel(here) => *here == channel_id,
            Audience::Person { channel, member_of } => *channel == channel_id || member_of.contains(channel_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_reads_only_itself_and_a_person_also_what_they_are_in() {
        let member_of: BTreeSet<String> = ["CSECRET".to_string()].into();
        assert!(Audience::Channel("CSECRET").may_read("CSECRET"));
        assert!(!Audience::Channel("CPUBLIC").may_read("CSECRET"));
        let member = Audience::Person {
            channel: "CPUBLIC",
            member_of: &member_of,
        };
        assert!(member.may_read("CSECRET"));
        assert!(!member.may_read("COTHER"));
        let outsider = Audience::Person {
            channel: "CPUBLIC",
            member_of: &BTreeSet::new(),
        };
        assert!(!outsider.may_read("CSECRET"));
        assert!(
            Audience::Person {
                channel: "COTHER",
                member_of: &BTreeSet::new()
            }
            .may_read("COTHER")
        );
    }
}
