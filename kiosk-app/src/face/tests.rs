use super::*;
use icao9303::lds::ImageFormat;

fn reference() -> FaceImage {
    FaceImage {
        format: ImageFormat::Jpeg,
        width: 1,
        height: 1,
        data: vec![0xff, 0xd8, 0xff],
    }
}

#[test]
fn simulated_unit_follows_its_script_then_faults() {
    let mut unit = SimulatedFaceUnit::scripted([
        Err(FaceError::NoUsableCapture),
        Ok(FaceMatch { score: 0.91 }),
    ]);
    assert_eq!(unit.verify(&reference()), Err(FaceError::NoUsableCapture));
    assert_eq!(unit.verify(&reference()), Ok(FaceMatch { score: 0.91 }));
    assert!(matches!(unit.verify(&reference()), Err(FaceError::Unit(_))));
    unit.push(Ok(FaceMatch { score: 0.5 }));
    assert_eq!(unit.verify(&reference()), Ok(FaceMatch { score: 0.5 }));
    assert_eq!(unit.calls(), 4);
}

#[test]
fn per_mille_is_clamped_and_rounded() {
    assert_eq!(FaceMatch { score: 0.8 }.per_mille(), 800);
    assert_eq!(FaceMatch { score: 0.8004 }.per_mille(), 800);
    assert_eq!(FaceMatch { score: 1.7 }.per_mille(), 1000);
    assert_eq!(FaceMatch { score: -0.2 }.per_mille(), 0);
    assert_eq!(FaceMatch { score: f32::NAN }.per_mille(), 0);
}

#[test]
fn a_unit_is_usable_as_a_trait_object() {
    let mut unit: Box<dyn FaceVerifier> =
        Box::new(SimulatedFaceUnit::scripted([Ok(FaceMatch { score: 1.0 })]));
    assert!(unit.verify(&reference()).is_ok());
}
