//! CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

/// CRC-16/CCITT-FALSE of `bytes`; the check value of `b"123456789"` is 0x29B1.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF_u16, |crc, &b| {
        let mut crc = crc ^ (u16::from(b) << 8);
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}
