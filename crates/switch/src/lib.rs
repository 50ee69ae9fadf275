//! vnet's userspace switch (the Open vSwitch role).
#![forbid(unsafe_code)]
