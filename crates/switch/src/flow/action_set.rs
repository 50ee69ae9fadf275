//! OpenFlow's action set (1.3.5, 5.10): write-actions accumulate in it,
//! at most one action of each kind (one set-field per field; a later write
//! of a kind replaces the earlier), and it runs in a fixed order, whatever
//! the order of writing:
//!
//! 1. copy TTL inwards
//! 2. pop: pop_vlan, pop_pbb, pop_mpls (outermost first: a B-TAG is
//!    outside the I-TAG, the label stack of a customer frame inside it)
//! 3. push-MPLS, 4. push-PBB, 5. push-VLAN
//! 6. copy TTL outwards
//! 7. decrement TTL: dec_mpls_ttl, dec_nw_ttl
//! 8. set: set_mpls_ttl, set_nw_ttl, then the set-fields in the order their
//!    fields were first written
//! 9. qos: set_queue
//! 10. group, or else 11. output (an output beside a group is dropped).
//!
//! Group buckets are action sets too (`group.rs`).

use super::{Action, Field};

/// The action set: see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionSet {
    copy_ttl_in: bool,
    pop_vlan: bool,
    pop_pbb: bool,
    pop_mpls: Option<u16>,
    push_mpls: Option<u16>,
    push_pbb: Option<u16>,
    push_vlan: Option<u16>,
    copy_ttl_out: bool,
    dec_mpls_ttl: bool,
    dec_ttl: bool,
    set_mpls_ttl: Option<u8>,
    set_nw_ttl: Option<u8>,
    set_fields: Vec<Field>,
    queue: Option<u32>,
    group: Option<u32>,
    output: Option<Action>,
}

impl ActionSet {
    /// Writes `a` into the set (replacing an action of its kind).
    pub fn write(&mut self, a: Action) {
        match a {
            Action::CopyTtlIn => self.copy_ttl_in = true,
            Action::PopVlan => self.pop_vlan = true,
            Action::PopPbb => self.pop_pbb = true,
            Action::PopMpls(t) => self.pop_mpls = Some(t),
            Action::PushMpls(t) => self.push_mpls = Some(t),
            Action::PushPbb(t) => self.push_pbb = Some(t),
            Action::PushVlan(tpid) => self.push_vlan = Some(tpid),
            Action::CopyTtlOut => self.copy_ttl_out = true,
            Action::DecMplsTtl => self.dec_mpls_ttl = true,
            Action::DecTtl => self.dec_ttl = true,
            Action::SetMplsTtl(t) => self.set_mpls_ttl = Some(t),
            Action::SetNwTtl(ttl) => self.set_nw_ttl = Some(ttl),
            Action::SetField(f) => {
                let same = std::mem::discriminant(&f);
                match self
                    .set_fields
                    .iter_mut()
                    .find(|g| std::mem::discriminant(*g) == same)
                {
                    Some(g) => *g = f,
                    None => self.set_fields.push(f),
                }
            }
            Action::SetQueue(q) => self.queue = Some(q),
            Action::Group(g) => self.group = Some(g),
            Action::Output(_) | Action::Controller { .. } => self.output = Some(a),
        }
    }

    /// Appends the set's actions in execution order.
    pub fn append_to(&self, out: &mut Vec<Action>) {
        let flag = |on: bool, a: Action| on.then_some(a);
        out.extend(flag(self.copy_ttl_in, Action::CopyTtlIn));
        out.extend(flag(self.pop_vlan, Action::PopVlan));
        out.extend(flag(self.pop_pbb, Action::PopPbb));
        out.extend(self.pop_mpls.map(Action::PopMpls));
        out.extend(self.push_mpls.map(Action::PushMpls));
        out.extend(self.push_pbb.map(Action::PushPbb));
        out.extend(self.push_vlan.map(Action::PushVlan));
        out.extend(flag(self.copy_ttl_out, Action::CopyTtlOut));
        out.extend(flag(self.dec_mpls_ttl, Action::DecMplsTtl));
        out.extend(flag(self.dec_ttl, Action::DecTtl));
        out.extend(self.set_mpls_ttl.map(Action::SetMplsTtl));
        out.extend(self.set_nw_ttl.map(Action::SetNwTtl));
        out.extend(self.set_fields.iter().copied().map(Action::SetField));
        out.extend(self.queue.map(Action::SetQueue));
        match self.group {
            Some(g) => out.push(Action::Group(g)),
            None => out.extend(self.output),
        }
    }

    /// The set's actions in execution order.
    pub fn ordered(&self) -> Vec<Action> {
        let mut v = Vec::new();
        self.append_to(&mut v);
        v
    }

    /// The set holding `actions` written in this order.
    pub fn of(actions: &[Action]) -> ActionSet {
        let mut s = ActionSet::default();
        actions.iter().for_each(|a| s.write(*a));
        s
    }

    /// Whether the set would output (or send to the controller) when run
    /// without a group.
    pub fn has_output(&self) -> bool {
        self.output.is_some()
    }
}
