//! The readers never panic on arbitrary or damaged input: the fuzz target's harness, run on
//! random bytes and on valid files with random damage.

use proptest::prelude::*;
use trilink_interchange::read_every_kind;

const VALID: &str = "time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps,track_id,cov_xx,cov_xy,cov_xz,cov_yy,cov_yz,cov_zz,nation,lat_deg,lon_deg,alt_m,impact_time_s,impact_lat_deg,impact_lon_deg,semi_major_m,semi_minor_m,orientation_deg,launch_time_s,launch_lat_deg,launch_lon_deg\n\
1.5,S1,1000,0.1,0.2,5,0.001,0.001,3,1,2,3,4,5,6,7,1,0,0,1,0,1,KR,37,127,10,100,38,130,1000,500,45,0,39,125\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_every_kind(&bytes);
    }

    #[test]
    fn damaged_valid_files_never_panic(pos in 0usize..VALID.len(), byte in any::<u8>(), cut in 0usize..VALID.len()) {
        let mut bytes = VALID.as_bytes().to_vec();
        bytes[pos] = byte;
        bytes.truncate(cut.max(pos + 1));
        read_every_kind(&bytes);
    }
}

#[test]
fn the_valid_line_reads_as_every_kind() {
    // One row that carries every column of every file: each of the seven readers accepts it.
    assert_eq!(read_every_kind(VALID.as_bytes()), 7);
}
