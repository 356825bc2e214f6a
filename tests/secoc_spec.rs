//! Secured ids as rule files write them: TOML text through serde into a
//! [`LayoutSpec`], then into a checked profile, with errors naming the field.

use bulkhead::secoc::{Acceptance, FreshnessScheme, LayoutSpec, Profile, SecOcProfile, SecuredLayout, SpecError};

fn parse(text: &str) -> Result<LayoutSpec, toml::de::Error> {
    toml::from_str(text)
}

fn build(text: &str) -> Result<SecOcProfile, SpecError> {
    parse(text).expect("valid TOML for LayoutSpec").build()
}

#[test]
fn the_example_of_the_brief() {
    let profile = build(
        r#"
        profile = "1"
        data_id = 0x140
        payload = "0..8"
        freshness_bits = 8
        mac_bits = 24
        freshness_at = 64
        mac_at = 72
        "#,
    )
    .unwrap();
    let layout = profile.layout();
    assert_eq!(layout.data_id(), 0x140);
    assert_eq!((layout.payload().offset(), layout.payload().len()), (0, 8));
    assert_eq!((layout.freshness().position(), layout.freshness().bits()), (64, 8));
    assert_eq!((layout.mac().position(), layout.mac().bits()), (72, 24));
    assert_eq!(layout.frame_len(), 12, "12 bytes: a CAN FD frame");
    assert_eq!(layout.freshness_value_bits(), 64);
    assert_eq!(profile.scheme(), &FreshnessScheme::Counter);
}

#[test]
fn presets_need_only_the_data_id_and_payload() {
    let one = build("profile = 1\ndata_id = 0x140\npayload = \"0..4\"").unwrap();
    assert_eq!(one.layout(), &SecuredLayout::for_profile(Profile::One, 0x140, 4).unwrap());
    let two = build("profile = \"2\"\ndata_id = 0x141\npayload = \"0..5\"").unwrap();
    assert_eq!(two.scheme(), &FreshnessScheme::None);
    assert_eq!(two.layout().frame_len(), 8);
    let three = build("profile = \"3\"\ndata_id = 0x142\npayload = \"0..4\"\nsync_data_id = 0x10").unwrap();
    assert_eq!(three, SecOcProfile::profile3(0x142, 4, 0x10).unwrap());
}

#[test]
fn a_custom_can_fd_layout_with_its_acceptance_window() {
    let profile = build(
        r#"
        profile = "custom"
        data_id = 0xBEEF
        payload = "2..24"
        freshness_bits = 16
        freshness_at = 0
        mac_bits = 64
        mac_at = 192
        frame_len = 32
        max_increment = 100
        attempts = 2
        "#,
    )
    .unwrap();
    assert_eq!(profile.layout().frame_len(), 32);
    assert_eq!(profile.layout().payload().offset(), 2);
    assert_eq!(profile.acceptance(), Acceptance { max_increment: 100, attempts: 2 });
}

#[test]
fn semantic_errors_name_the_field() {
    let cases = [
        ("profile = \"1\"\ndata_id = 70000\npayload = \"0..4\"", "data_id"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0..4\"\nmac_bits = 28", "mac_bits"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0-4\"", "payload"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0..70\"", "payload"),
        ("profile = \"custom\"\ndata_id = 1\npayload = \"0..4\"\nfreshness_bits = 8", "mac_bits"),
        ("profile = \"custom\"\ndata_id = 1\npayload = \"0..4\"\nfreshness_bits = 8\nmac_bits = 0", "mac_bits"),
        ("profile = \"custom\"\ndata_id = 1\npayload = \"0..4\"\nfreshness_bits = 8\nmac_bits = 129", "mac_bits"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0..4\"\nmac_at = 16", "mac_at"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0..4\"\nframe_len = 9", "frame_len"),
        ("profile = \"3\"\ndata_id = 1\npayload = \"0..4\"", "sync_data_id"),
        ("profile = \"2\"\ndata_id = 1\npayload = \"0..4\"\nreset_flag_bits = 2", "reset_flag_bits"),
        ("profile = \"1\"\ndata_id = 1\npayload = \"0..4\"\nattempts = 99", "attempts"),
    ];
    for (text, field) in cases {
        let error = build(text).unwrap_err();
        assert_eq!(error.field(), field, "{text}: {error}");
        assert!(error.to_string().contains(field), "{error}");
    }
}

#[test]
fn syntax_and_type_errors_come_from_serde_with_the_key() {
    let unknown = parse("profile = \"1\"\ndata_id = 1\npayload = \"0..4\"\nmac_bit = 24").unwrap_err();
    assert!(unknown.to_string().contains("mac_bit"), "{unknown}");
    let profile = parse("profile = \"4\"\ndata_id = 1\npayload = \"0..4\"").unwrap_err();
    assert!(profile.to_string().contains("\"1\", \"2\", \"3\" or \"custom\""), "{profile}");
    let integer = parse("profile = 7\ndata_id = 1\npayload = \"0..4\"").unwrap_err();
    assert!(integer.to_string().contains("profile"), "{integer}");
    let missing = parse("profile = \"1\"\npayload = \"0..4\"").unwrap_err();
    assert!(missing.to_string().contains("data_id"), "{missing}");
    let typed = parse("profile = \"1\"\ndata_id = \"0x140\"\npayload = \"0..4\"").unwrap_err();
    assert!(typed.to_string().contains("data_id"), "{typed}");
}

#[test]
fn the_spec_also_reads_from_json() {
    let spec: LayoutSpec = serde_json::from_str(r#"{"profile": "1", "data_id": 320, "payload": "0..4"}"#).unwrap();
    assert_eq!(spec.build().unwrap(), SecOcProfile::profile1(0x140, 4).unwrap());
}
