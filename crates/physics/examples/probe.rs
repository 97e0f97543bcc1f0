use trilink_physics::{fly, missiles, FlightConfig};
fn main() {
    for name in missiles::class_names() {
        let l = missiles::template_launch(name, 0.0).unwrap();
        let n = 5;
        let t0 = std::time::Instant::now();
        let mut samples = 0;
        for _ in 0..n {
            let f = fly(&l, &FlightConfig::default()).unwrap();
            samples = f.objects.iter().map(|o| o.t_s.len()).sum::<usize>();
        }
        let el = t0.elapsed().as_secs_f64() / n as f64;
        println!("{name}: {:.1} ms per flight, {samples} samples, {:.0} ns/sample", el * 1e3, el * 1e9 / samples as f64);
    }
}
