#!/usr/bin/env python3
"""Writes the built-in scenarios under scenarios/ (run from the repository root).

The files are meant to be read and edited by people; this script only keeps the shared,
notional sensor laydown identical across them and generates the 500 launches of raid-1000
from a fixed pseudo-random sequence. Re-running it reproduces the committed files exactly.
"""
import random

HEADER_COMMON = """#
# Every sensor below is NOTIONAL: placed at public-geography level (an inland region, a coast,
# an island, a sea) with round-number performance, never a real installation's figures
# (reference/public-facts.md §5 gives the openly reported ranges these imitate). Times are
# seconds from the epoch; angles of sectors are degrees clockwise from north, a sector running
# clockwise from azimuth_min_deg to azimuth_max_deg (omit both for all round).
# Sigma values: early-warning radars measure range to tens of metres and angles to 1-3 mrad;
# X-band radars to metres and a fraction of a milliradian; Aegis ships in between.
"""

NATIONS = """
# ------------------------------------------------------------------ nations
[[nations]]
code = "KR"
name = "Republic of Korea"

[[nations]]
code = "JP"
name = "Japan"

[[nations]]
code = "US"
name = "United States"
"""

HUB = """
# ------------------------------------------------------------------ releasability and links
# Whose track reports may go to whom. The public mechanism (declared operational 19 Dec 2023)
# joins the ROK-US and Japan-US systems through U.S. INDOPACOM in Hawaii; KR and JP reports
# reach each other through the US, never directly.
[policy]
release = { KR = ["US"], JP = ["US"], US = ["KR", "JP"] }

# The hub fuses and forwards: KR's information may reach JP through the US, and JP's KR, as
# Japanese data reaches the ROK through INDOPACOM's interface control center. A fused product
# goes only where every source in it released it.
[[policy.relay]]
from = "KR"
via = "US"
to = ["JP"]

[[policy.relay]]
from = "JP"
via = "US"
to = ["KR"]

# Hub-and-spoke through the US. No latency has ever been published: round illustrative numbers.
[[links]]
from = "KR"
to = "US"
latency_ms = 120
jitter_ms = 20
loss = 0.001

[[links]]
from = "JP"
to = "US"
latency_ms = 110
jitter_ms = 20
loss = 0.001
"""

MESH = """
# ------------------------------------------------------------------ releasability and links
# A what-if: a full mesh in which KR and JP also release to each other directly. (The public
# mechanism is hub-and-spoke through the US; compare with the other built-ins.)
[policy]
release = { KR = ["US", "JP"], JP = ["US", "KR"], US = ["KR", "JP"] }

[[links]]
from = "KR"
to = "US"
latency_ms = 120
jitter_ms = 20
loss = 0.001

[[links]]
from = "JP"
to = "US"
latency_ms = 110
jitter_ms = 20
loss = 0.001

[[links]]
from = "KR"
to = "JP"
latency_ms = 30
jitter_ms = 5
loss = 0.001
"""


def sensor(id, nation, typ, lat, lon, alt, rng_m, min_el, sector, revisit, s_r, s_a, s_e, pd, fa, note):
    lines = [f'[[sensors]]', f'id = "{id}"{" " * max(1, 24 - len(id))}# {note}', f'nation = "{nation}"',
             f'type = "{typ}"', f'lat_deg = {lat}', f'lon_deg = {lon}', f'alt_m = {alt}',
             f'max_range_m = {rng_m:_}', f'min_elevation_deg = {min_el}']
    if sector:
        lines += [f'azimuth_min_deg = {sector[0]}', f'azimuth_max_deg = {sector[1]}']
    lines += [f'revisit_s = {revisit}', f'sigma_range_m = {s_r}', f'sigma_azimuth_mrad = {s_a}',
              f'sigma_elevation_mrad = {s_e}', f'p_detection = {pd}', f'false_alarms_per_scan = {fa}']
    return "\n".join(lines) + "\n"


def laydown(fa_scale=1, extra=()):
    f = lambda x: x * fa_scale
    out = ["\n# ------------------------------------------------------------------ sensors (all notional)\n"]
    out.append(sensor("KR-EW-1", "KR", "early-warning", 36.4, 127.4, 400, 800_000, 1.0, (250, 60), 5, 40, 2.0, 2.0, 0.93, f(2),
                      "early-warning radar inland, centre-west of the south"))
    out.append(sensor("KR-EW-2", "KR", "early-warning", 35.3, 128.9, 500, 800_000, 1.0, (290, 70), 5, 40, 2.0, 2.0, 0.93, f(2),
                      "early-warning radar inland, south-east"))
    out.append(sensor("KR-AEGIS-1", "KR", "aegis", 37.8, 130.0, 20, 1_000_000, 0.5, None, 2, 20, 1.0, 1.0, 0.95, f(1),
                      "Aegis destroyer in the East Sea, all round"))
    for e in extra:
        out.append(e)
    out.append(sensor("JP-EW-SADO", "JP", "early-warning", 38.1, 138.4, 900, 1_500_000, 0.5, (220, 40), 4, 30, 1.5, 1.5, 0.95, f(3),
                      "early-warning radar on Sado island"))
    out.append(sensor("JP-EW-NORTH", "JP", "early-warning", 41.3, 141.1, 600, 1_500_000, 0.5, (200, 360), 4, 30, 1.5, 1.5, 0.95, f(3),
                      "early-warning radar at the northern tip of Honshu"))
    out.append(sensor("JP-EW-KOSHIKI", "JP", "early-warning", 31.7, 129.8, 500, 1_500_000, 0.5, (180, 40), 4, 30, 1.5, 1.5, 0.95, f(3),
                      "early-warning radar on the Koshiki islands, south-west Kyushu"))
    out.append(sensor("JP-EW-OKINAWA", "JP", "early-warning", 26.8, 128.3, 300, 1_500_000, 0.5, None, 4, 30, 1.5, 1.5, 0.95, f(3),
                      "early-warning radar in the Okinawa area, all round"))
    out.append(sensor("US-XB-NORTH", "US", "x-band", 40.9, 140.3, 50, 2_000_000, 0.5, (220, 330), 1, 5, 0.3, 0.3, 0.98, f(1),
                      "transportable X-band radar, northern Japan"))
    out.append(sensor("US-XB-WEST", "US", "x-band", 35.7, 135.2, 50, 2_000_000, 0.5, (240, 20), 1, 5, 0.3, 0.3, 0.98, f(1),
                      "transportable X-band radar, western Japan (Sea of Japan coast)"))
    out.append(sensor("US-AEGIS-1", "US", "aegis", 39.5, 135.5, 20, 1_000_000, 0.5, None, 2, 20, 1.0, 1.0, 0.95, f(1),
                      "US Aegis destroyer in the Sea of Japan, all round"))
    return "\n".join(out)


REGIONS = """
# ------------------------------------------------------------------ warning regions
# Coarse outlines (a handful of vertices, [lat_deg, lon_deg]) or circles; good enough to say
# "over" or "near", not a boundary.
[[regions]]
name = "Hokkaido"
nation = "JP"
polygon_deg = [[45.60, 141.50], [44.00, 145.50], [42.90, 145.80], [41.40, 141.00], [42.20, 139.70], [43.40, 140.30]]

[[regions]]
name = "Aomori"
nation = "JP"
polygon_deg = [[41.55, 139.95], [41.55, 141.70], [40.20, 141.70], [40.20, 139.85]]

[[regions]]
name = "Niigata"
nation = "JP"
polygon_deg = [[38.55, 139.40], [37.80, 139.90], [36.90, 138.50], [37.10, 137.70], [38.30, 138.20]]

[[regions]]
name = "Okinawa"
nation = "JP"
polygon_deg = [[27.90, 127.70], [26.10, 127.90], [24.00, 124.00], [24.50, 123.00], [26.00, 126.50]]

[[regions]]
name = "Seoul"
nation = "KR"
circle = { lat_deg = 37.57, lon_deg = 126.98, radius_m = 60_000 }

[[regions]]
name = "Jeju"
nation = "KR"
circle = { lat_deg = 33.40, lon_deg = 126.55, radius_m = 50_000 }
"""


RECORD_HEAD = """
# ------------------------------------------------------------------ the public record
# What was openly reported for the event this scenario imitates (reference/public-facts.md §3),
# in seconds from the epoch; `trilink run` prints it beside its own times. Not used to decide.
"""


def record(nation, event, time_s, note, region=None):
    r = f'\n[[public_record]]\nnation = "{nation}"\n'
    if region:
        r += f'region = "{region}"\n'
    return r + f'event = "{event}"\ntime_s = {time_s}    # {note}\n'


def launch(name, lat, lon, az, t, cls, comment=""):
    c = f"  # {comment}" if comment else ""
    return (f'[[launches]]\nname = "{name}"{c}\nlat_deg = {lat}\nlon_deg = {lon}\nalt_m = 0\n'
            f'azimuth_deg = {az}\ntime_s = {t}\nclass = "{cls}"\n')


def scenario(fname, title, facts, name, desc, epoch, duration, launches, links=HUB, sensors=None, record=""):
    with open(f"scenarios/{fname}.toml", "w") as f:
        f.write(f"# {title}\n#\n")
        for line in facts.strip().splitlines():
            f.write(f"# {line}\n")
        f.write(HEADER_COMMON)
        f.write("# Generated by crates/sim/tools/gen_scenarios.py; edit that script, or copy this file.\n\n")
        f.write(f'name = "{name}"\ndescription = "{desc}"\n')
        f.write(f"epoch = {epoch}        # the first launch, in UTC\n")
        if duration:
            f.write(f"duration_s = {duration}    # simulated span; without it, until everything has landed\n")
        f.write(NATIONS)
        f.write(links)
        f.write("\n# ------------------------------------------------------------------ launches\n")
        f.write("# Sites and azimuths follow the physics crate's templates (trilink_physics::missiles).\n")
        f.write("\n".join(launches))
        f.write(sensors if sensors is not None else laydown())
        f.write(REGIONS)
        if record:
            f.write(RECORD_HEAD + record)


scenario("hwasong-12", "Hwasong-12 over Aomori, 4 October 2022 (notional reconstruction).",
         """Public figures (Japan MOD / ROK JCS, reference/public-facts.md §2): launched about 07:22 JST
from Chagang Province; apogee about 970-1,000 km, range about 4,600 km, about 22 min; overflew
Aomori 07:28-29 and fell about 3,200 km east of Kamaishi, outside Japan's EEZ.""",
         "hwasong-12", "Hwasong-12 IRBM over northern Japan (2022-10-04), notional KR/JP/US radars",
         "2022-10-03T22:22:00Z", None,
         [launch("HS12-20221004", 40.6, 126.4, 82.985, 0, "hwasong-12", "Mupyong-ri, Chagang Province")],
         record=record("JP", "J-Alert", 300, "07:27 JST, Hokkaido", "Hokkaido")
         + record("JP", "J-Alert", 420, "07:29 JST, Aomori, about the time of the overflight", "Aomori")
         + record("JP", "overflight", 390, "07:28-29 JST, as reported", "Aomori"))

scenario("kn-23", "KN-23 short-range ballistic missile, 25 July 2019 template (notional).",
         """Public figures (CSIS Missile Threat, reference/public-facts.md §2): two missiles from near
Wonsan flew 430 km and 690 km with an apogee of about 50 km; reported to fly low with evasive
manoeuvres, which this ballistic model does not imitate. One missile, the 430 km flight.""",
         "kn-23", "KN-23 SRBM from near Wonsan into the Sea of Japan (2019-07-25 template), notional radars",
         "2019-07-24T20:34:00Z", None,
         [launch("KN23-20190725", 39.18, 127.48, 60, 0, "kn-23", "near Wonsan")])

scenario("hwasong-15", "Hwasong-15, 29 November 2017, lofted (notional reconstruction).",
         """Public figures (KCNA; Japan MOD, reference/public-facts.md §2): launched about 03:18 JST from
Pyongsong; apogee 4,475 km, range 950 km (Japan: about 1,000 km), 53 min; fell about 04:11
inside Japan's EEZ. The two spent stages are simulated as their own falling objects.""",
         "hwasong-15", "Hwasong-15 lofted ICBM (2017-11-29), notional KR/JP/US radars",
         "2017-11-28T18:18:00Z", None,
         [launch("HS15-20171129", 39.25, 125.87, 71.186, 0, "hwasong-15", "Pyongsong")])

scenario("hwasong-18", "Hwasong-18, 12 July 2023, lofted solid-fuel ICBM (notional reconstruction).",
         """Public figures (KCNA; Japan MOD, reference/public-facts.md §2): launched about 10:00 JST near
Pyongyang; apogee 6,648.4 km, range 1,001.2 km, 4,491 s (about 74 min); fell about 11:13
outside Japan's EEZ, about 250 km west of Okushiri. Three spent stages fall on their own.""",
         "hwasong-18", "Hwasong-18 lofted solid ICBM (2023-07-12), notional KR/JP/US radars",
         "2023-07-12T01:00:00Z", None,
         [launch("HS18-20230712", 39.2, 125.67, 67.014, 0, "hwasong-18", "Pyongyang area (Sunan)")])

west_sea = sensor("KR-AEGIS-2", "KR", "aegis", 35.8, 125.0, 20, 1_000_000, 0.5, None, 2, 20, 1.0, 1.0, 0.95, 1,
                  "Aegis destroyer in the Yellow Sea (West Sea), all round")
scenario("chollima-1", "Chollima-1 satellite launcher, 21 November 2023, southbound with stage drops (notional).",
         """Public figures (KCNA; Japan, reference/public-facts.md §2): launched 22:42:28 KST from Sohae
(Tongchang-ri), heading south; passed between Okinawa Island and Miyako about 22:55; KCNA
claimed orbit insertion 705 s after launch. The first stage falls in the Yellow Sea, the second
east of the Philippines; the payload reaches orbit, so the run is cut at 1,200 s.""",
         "chollima-1", "Chollima-1 southbound satellite launch (2023-11-21) with stage drops, notional radars",
         "2023-11-21T13:42:28Z", 1200,
         [launch("CH1-20231121", 39.66, 124.7, 172.944, 0, "chollima-1", "Sohae (Tongchang-ri)")],
         sensors=laydown(extra=(west_sea,)),
         record=record("JP", "J-Alert", 212, "22:46 JST, Okinawa (launch 22:42:28 by KCNA)", "Okinawa")
         + record("JP", "overflight", 752, "about 22:55 JST, between Okinawa Island and Miyako", "Okinawa")
         + record("JP", "all clear", 1952, "23:15 JST, alert lifted"))

scenario("salvo", "A salvo: three KN-23 class missiles seconds apart (brief §4).",
         """Notional: three missiles from sites a few kilometres apart near Wonsan, 0, 4 and 9 s apart, on
slightly different azimuths. The closely spaced objects (three payloads, three spent stages)
are what a tracker must keep apart. Links here are a full mesh, as a what-if.""",
         "salvo", "Three KN-23 class SRBMs seconds apart from near Wonsan, notional radars, mesh links",
         "2023-03-01T00:00:00Z", None,
         [launch("SALVO-1", 39.18, 127.48, 60, 0, "kn-23", "near Wonsan"),
          launch("SALVO-2", 39.21, 127.44, 62, 4, "kn-23", "about 5 km north-west"),
          launch("SALVO-3", 39.15, 127.52, 58, 9, "kn-23", "about 5 km south-east")],
         links=MESH)

rng = random.Random(1000)
raid = []
for i in range(500):
    lat = round(rng.uniform(38.6, 40.4), 4)
    lon = round(rng.uniform(125.4, 127.6), 4)
    az = round(rng.uniform(45.0, 110.0), 2)
    t = round(rng.uniform(0.0, 120.0), 1)
    raid.append(launch(f"RAID-{i + 1:03}", lat, lon, az, t, "kn-23"))
scenario("raid-1000", "raid-1000: 1,000 objects with clutter, for scale (brief §4).",
         """Entirely notional, a load test: 500 KN-23 class launches from sites spread over the north of
the peninsula within two minutes, each a payload and a spent stage (1,000 objects), into the
Sea of Japan. Every sensor makes ten times its usual false alarms (clutter). The launches are
drawn from a fixed pseudo-random sequence (seed 1000) by the generator script.""",
         "raid-1000", "1,000 objects (500 SRBM launches, payload + stage) with clutter, for scale",
         "2024-01-01T00:00:00Z", None, raid, sensors=laydown(fa_scale=10))
