//! Revised error handling for UPDATE messages (RFC 7606): what to do about
//! each malformed attribute.
//!
//! Decoding an attribute block ([`super::PathAttributes::decode`]) never
//! stops at the first problem that RFC 7606 handles without a session
//! reset. It decodes everything it can and returns an [`ErrorReport`]
//! listing each [`AttributeProblem`] with its [`Action`]; the strongest
//! action is the one the session applies to the whole UPDATE. Problems that
//! remain session resets are returned as [`crate::DecodeError::Update`].
//!
//! The per-attribute actions follow RFC 7606 7 (and RFC 6793 6 for
//! AS4_PATH/AS4_AGGREGATOR, RFC 7311 for AIGP, RFC 8092 for
//! LARGE_COMMUNITY, RFC 9234 for OTC, RFC 7607 for AS number 0):
//!
//! | attribute | malformed (length, value, or flags per 3(c)) |
//! |---|---|
//! | ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, EXTENDED COMMUNITIES, IPv6 extended communities, LARGE_COMMUNITY, OTC | treat-as-withdraw |
//! | ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR, AIGP | attribute discard |
//! | MP_REACH_NLRI, MP_UNREACH_NLRI | AFI/SAFI disable when the AFI/SAFI could be read, else session reset |
//!
//! and, for the message as a whole (RFC 7606 3 and 4): an attribute whose
//! length overruns the attribute field, or trailing octets too few for an
//! attribute header, is treat-as-withdraw; a repeated MP_REACH_NLRI or
//! MP_UNREACH_NLRI is a session reset, any other repeated attribute is
//! discarded after its first occurrence; a missing well-known mandatory
//! attribute (ORIGIN, AS_PATH, NEXT_HOP for NLRI in the NLRI field,
//! LOCAL_PREF from an internal peer) is treat-as-withdraw; LOCAL_PREF from
//! an external peer is discarded (7.5); an unrecognised well-known attribute
//! is a session reset (RFC 4271 6.3).

use bytes::Bytes;
use std::fmt;

use super::type_code as tc;
use crate::afi::AfiSafi;
use crate::error::UpdateMessageSubcode;

/// The approaches of RFC 7606 2, weakest first: `Ord` gives which wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Attribute discard: drop the attribute, keep the routes.
    AttributeDiscard,
    /// Treat-as-withdraw: treat every route of the UPDATE as withdrawn.
    TreatAsWithdraw,
    /// AFI/SAFI disable: stop using the family (RFC 4760 7), as if its
    /// capability had not been negotiated.
    AfiSafiDisable,
    /// Session reset: send the NOTIFICATION and close the session.
    SessionReset,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::AttributeDiscard => "attribute discard",
            Action::TreatAsWithdraw => "treat-as-withdraw",
            Action::AfiSafiDisable => "AFI/SAFI disable",
            Action::SessionReset => "session reset",
        })
    }
}

/// Who sent the UPDATE, as far as error handling cares (RFC 7606 7.5,
/// RFC 4271 5.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PeerType {
    /// An internal (iBGP) peer, or a confederation peer: LOCAL_PREF is
    /// expected and required when NLRI are present.
    Internal,
    /// An external (eBGP) peer: a received LOCAL_PREF is discarded.
    External,
    /// A peer whose LOCAL_PREF is accepted and checked but not required: an
    /// external peer inside One Administrative Domain
    /// (draft-ietf-idr-one-administrative-domain), or any peer when the
    /// session type is not known (MRT replay, captures). The default.
    #[default]
    Oad,
}

/// One problem found in an UPDATE's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeProblem {
    /// The attribute's type code.
    pub type_code: u8,
    /// What RFC 7606 says to do.
    pub action: Action,
    /// The UPDATE Message Error subcode a NOTIFICATION would carry.
    pub subcode: UpdateMessageSubcode,
    /// The Data a NOTIFICATION would carry: the erroneous attribute (type,
    /// length, value), or the missing attribute's type code.
    pub data: Bytes,
    /// The family concerned, for AFI/SAFI disable.
    pub family: Option<AfiSafi>,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for AttributeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attribute {}: {} ({}; {})",
            self.type_code, self.reason, self.subcode, self.action
        )
    }
}

/// Everything RFC 7606 found wrong in one UPDATE that did not force a
/// session reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorReport {
    /// Each problem, in the order found.
    pub problems: Vec<AttributeProblem>,
}

impl ErrorReport {
    /// The strongest action, `None` when the attributes are clean.
    pub fn action(&self) -> Option<Action> {
        self.problems.iter().map(|p| p.action).max()
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether the routes of the UPDATE must be treated as withdrawn (the
    /// strongest action is treat-as-withdraw or stronger): the prefixes of
    /// the NLRI field *and* of MP_REACH_NLRI are then withdrawals
    /// (RFC 7606 2), and MP_UNREACH_NLRI is still honoured.
    pub fn treat_as_withdraw(&self) -> bool {
        self.action() >= Some(Action::TreatAsWithdraw)
    }

    /// The families to disable.
    pub fn disabled_families(&self) -> impl Iterator<Item = AfiSafi> + '_ {
        self.problems
            .iter()
            .filter(|p| p.action == Action::AfiSafiDisable)
            .filter_map(|p| p.family)
    }

    pub(crate) fn push(
        &mut self,
        type_code: u8,
        action: Action,
        subcode: UpdateMessageSubcode,
        data: Bytes,
        reason: &'static str,
    ) {
        self.problems.push(AttributeProblem {
            type_code,
            action,
            subcode,
            data,
            family: None,
            reason,
        });
    }
}

/// The Optional and Transitive bits a known attribute must have (RFC 7606
/// 3(c)), `None` for type codes this crate does not decode.
pub const fn expected_category(type_code: u8) -> Option<u8> {
    const WK: u8 = 0x40;
    const OT: u8 = 0xc0;
    const ON: u8 = 0x80;
    Some(match type_code {
        tc::ORIGIN | tc::AS_PATH | tc::NEXT_HOP | tc::LOCAL_PREF | tc::ATOMIC_AGGREGATE => WK,
        tc::MULTI_EXIT_DISC
        | tc::ORIGINATOR_ID
        | tc::CLUSTER_LIST
        | tc::MP_REACH_NLRI
        | tc::MP_UNREACH_NLRI
        | tc::AIGP => ON,
        tc::AGGREGATOR
        | tc::COMMUNITIES
        | tc::EXTENDED_COMMUNITIES
        | tc::AS4_PATH
        | tc::AS4_AGGREGATOR
        | tc::IPV6_EXTENDED_COMMUNITIES
        | tc::LARGE_COMMUNITY
        | tc::OTC => OT,
        _ => return None,
    })
}

/// The action for a malformed attribute of a known type (other than
/// MP_REACH_NLRI / MP_UNREACH_NLRI, whose action depends on whether the
/// family is known).
pub const fn malformed_action(type_code: u8) -> Action {
    match type_code {
        tc::ATOMIC_AGGREGATE | tc::AGGREGATOR | tc::AS4_PATH | tc::AS4_AGGREGATOR | tc::AIGP => {
            Action::AttributeDiscard
        }
        tc::MP_REACH_NLRI | tc::MP_UNREACH_NLRI => Action::AfiSafiDisable,
        _ => Action::TreatAsWithdraw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongest_wins() {
        let mut r = ErrorReport::default();
        assert_eq!(r.action(), None);
        r.push(
            6,
            Action::AttributeDiscard,
            UpdateMessageSubcode::AttributeLengthError,
            Bytes::new(),
            "x",
        );
        assert_eq!(r.action(), Some(Action::AttributeDiscard));
        assert!(!r.treat_as_withdraw());
        r.push(
            1,
            Action::TreatAsWithdraw,
            UpdateMessageSubcode::AttributeLengthError,
            Bytes::new(),
            "x",
        );
        assert_eq!(r.action(), Some(Action::TreatAsWithdraw));
        assert!(Action::SessionReset > Action::AfiSafiDisable);
        assert_eq!(malformed_action(tc::AIGP), Action::AttributeDiscard);
        assert_eq!(expected_category(tc::NEXT_HOP), Some(0x40));
    }
}
