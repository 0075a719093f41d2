//! ROI grant, history and revocation through the API.
