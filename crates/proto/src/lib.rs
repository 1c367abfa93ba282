//! Generated protobuf and gRPC types for every inburgering API and event.
//!
//! Nothing here is written by hand except the module tree: the `.proto` files under
//! `proto/` are the source of truth, and `buf lint` keeps them clean.

#![allow(clippy::all, missing_docs)]

/// The encoded `FileDescriptorSet` of every package: serves gRPC reflection and lets
/// operators' tools decode any event payload to JSON.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

pub mod common {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.common.v1.rs"));
    }
}

pub mod trajectories {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.trajectories.v1.rs"));
    }
}

pub mod testing {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.testing.v1.rs"));
    }
}

pub mod municipalities {
    pub mod v1 {
        include!(concat!(
            env!("OUT_DIR"),
            "/inburgering.municipalities.v1.rs"
        ));
    }
}

pub mod ceremonies {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.ceremonies.v1.rs"));
    }
}

pub mod recruitment {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.recruitment.v1.rs"));
    }
}

pub mod interpreting {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/inburgering.interpreting.v1.rs"));
    }
}
