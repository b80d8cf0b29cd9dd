//! Pull-secret decoding and the kubelet's rules for choosing credentials.
