//! Ed25519 known answers (RFC 8032, section 7.1, TEST 1 and TEST 2) through the
//! key file parser and the signing and strict verification used for bundles.

use bulkhead::keys::{KEY_FILE_HEADER, KeyFile, parse_key_file};

struct Vector {
    secret: &'static str,
    public: &'static str,
    message: &'static str,
    signature: &'static str,
}

const VECTORS: [Vector; 2] = [
    Vector {
        secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    Vector {
        secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

#[test]
fn rfc8032_test_1_and_2() {
    for (index, vector) in VECTORS.iter().enumerate() {
        let secret_file = format!(
            "{KEY_FILE_HEADER}\ntype = ed25519-secret\nsecret = {}\npublic = {}\n",
            vector.secret, vector.public
        );
        let public_file = format!("{KEY_FILE_HEADER}\ntype = ed25519-public\npublic = {}\n", vector.public);
        let Ok(KeyFile::SigningSecret(signing)) = parse_key_file("rfc8032.key", secret_file.as_bytes()) else {
            panic!("TEST {}: secret key file refused", index + 1)
        };
        let Ok(KeyFile::VerifyingPublic(verifying)) = parse_key_file("rfc8032.pub", public_file.as_bytes()) else {
            panic!("TEST {}: public key file refused", index + 1)
        };
        assert_eq!(signing.verifying_key(), verifying, "TEST {}: derived public key", index + 1);
        assert_eq!(verifying.to_bytes().to_vec(), unhex(vector.public));

        let message = unhex(vector.message);
        let expected: [u8; 64] = unhex(vector.signature).try_into().expect("64 bytes");
        assert_eq!(signing.sign_message(&message), expected, "TEST {}: signature", index + 1);
        assert!(verifying.verify_message(&message, &expected), "TEST {}: verify_strict", index + 1);

        let mut other = message.clone();
        other.push(0);
        assert!(!verifying.verify_message(&other, &expected));
        let mut forged = expected;
        forged[63] ^= 0x10; // S no longer canonical or no longer valid
        assert!(!verifying.verify_message(&message, &forged));
    }
}
