//! Which serial port `micrornn device` takes without `--port`, on made-up port lists
//! (this machine has no serial ports).

use micrornn_trainer::device::ports::{pick, Likeness, Port, Usb};

fn usb(name: &str, vid: u16, pid: u16, product: &str) -> Port {
    Port {
        name: name.into(),
        usb: Some(Usb {
            vid,
            pid,
            manufacturer: Some("maker".into()),
            product: Some(product.into()),
            serial: Some("E6614103E7".into()),
        }),
        kind: "usb",
    }
}

fn pico(name: &str) -> Port {
    usb(name, 0x1209, 0x0001, "micrornn")
}
fn microbit(name: &str) -> Port {
    usb(name, 0x0D28, 0x0204, "BBC micro:bit CMSIS-DAP")
}
fn nucleo(name: &str) -> Port {
    usb(name, 0x0483, 0x374B, "STM32 STLink")
}
fn other(name: &str) -> Port {
    usb(name, 0x10C4, 0xEA60, "CP2102 USB to UART Bridge Controller")
}
fn builtin(name: &str) -> Port {
    Port {
        name: name.into(),
        usb: None,
        kind: "pci",
    }
}

#[test]
fn likeness_of_each_kind_of_port() {
    assert_eq!(pico("a").likeness(), Likeness::Micrornn);
    assert!(matches!(
        microbit("a").likeness(),
        Likeness::InterfaceChip(w) if w.contains("micro:bit")
    ));
    assert!(matches!(
        nucleo("a").likeness(),
        Likeness::InterfaceChip(w) if w.contains("Nucleo")
    ));
    assert_eq!(other("a").likeness(), Likeness::Other);
    assert_eq!(builtin("a").likeness(), Likeness::Other);
    // The product string decides for the USB boards, whatever the IDs.
    assert_eq!(
        usb("a", 0x2E8A, 0x000A, "micrornn").likeness(),
        Likeness::Micrornn
    );
    let d = pico("/dev/ttyACM0").describe();
    assert!(
        d.contains("/dev/ttyACM0")
            && d.contains("1209:0001")
            && d.contains("micrornn")
            && d.contains("serial E6614103E7"),
        "{d}"
    );
    assert_eq!(builtin("/dev/ttyS0").describe(), "/dev/ttyS0  (pci)");
}

#[test]
fn the_one_candidate_is_taken() {
    let ports = [
        builtin("/dev/ttyS0"),
        other("/dev/ttyUSB0"),
        pico("/dev/ttyACM0"),
    ];
    assert_eq!(pick(&ports).unwrap(), "/dev/ttyACM0");
    let ports = [builtin("/dev/ttyS0"), nucleo("/dev/ttyACM1")];
    assert_eq!(pick(&ports).unwrap(), "/dev/ttyACM1");
    // A micrornn USB board is preferred to an interface chip that may run anything.
    let ports = [microbit("/dev/ttyACM0"), pico("/dev/ttyACM1")];
    assert_eq!(pick(&ports).unwrap(), "/dev/ttyACM1");
}

#[test]
fn none_or_several_candidates_is_an_error_that_lists_them() {
    let e = pick(&[]).unwrap_err().to_string();
    assert!(e.contains("no serial port") && e.contains("--port"), "{e}");
    let e = pick(&[builtin("/dev/ttyS0"), other("/dev/ttyUSB0")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no micrornn board") && e.contains("/dev/ttyS0") && e.contains("/dev/ttyUSB0"),
        "{e}"
    );
    let e = pick(&[
        pico("/dev/ttyACM0"),
        pico("/dev/ttyACM1"),
        microbit("/dev/ttyACM2"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("several micrornn devices")
            && e.contains("/dev/ttyACM0 (micrornn)")
            && e.contains("/dev/ttyACM1 (micrornn)")
            && e.contains("--port"),
        "{e}"
    );
    let e = pick(&[microbit("/dev/ttyACM0"), nucleo("/dev/ttyACM1")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/dev/ttyACM0 (micro:bit") && e.contains("/dev/ttyACM1 (Nucleo"),
        "{e}"
    );
}
