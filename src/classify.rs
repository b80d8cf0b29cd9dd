//! Classifies runtime, kubelet and registry error texts into a [`Cause`].
