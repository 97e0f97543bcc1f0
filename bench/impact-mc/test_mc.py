#!/usr/bin/env python3
"""Tests of the harness's statistics: `python3 bench/impact-mc/test_mc.py`.

Reference for the Wilson interval: scipy 1.17.1,
`scipy.stats.binomtest(k, n).proportion_ci(0.95, method="wilson")`, rounded to 6 decimals (an
independent implementation); the four cases are the worked examples of R. G. Newcombe,
Statistics in Medicine 17 (1998) 857-872.
"""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mc  # noqa: E402


class Wilson(unittest.TestCase):
    def test_matches_scipy(self):
        for k, n, lo, hi in [
            (81, 263, 0.255289, 0.366210),
            (15, 148, 0.062386, 0.160487),
            (0, 20, 0.000000, 0.161125),
            (1, 29, 0.006113, 0.171755),
        ]:
            got = mc.wilson(k, n)
            self.assertAlmostEqual(got[0], lo, delta=6e-7, msg=(k, n, got))
            self.assertAlmostEqual(got[1], hi, delta=6e-7, msg=(k, n, got))

    def test_empty_is_nan(self):
        self.assertTrue(all(math.isnan(x) for x in mc.wilson(0, 0)))


class Verdict(unittest.TestCase):
    def test_band_and_certainty(self):
        self.assertEqual(mc.verdict(95, 100), "meets")
        self.assertEqual(mc.verdict(92, 100), "meets")
        # 50/50: the interval (92.9-100 %) still reaches the band.
        self.assertEqual(mc.verdict(50, 50), "HIGH?")
        self.assertEqual(mc.verdict(500, 500), "HIGH")
        self.assertEqual(mc.verdict(0, 50), "LOW")
        self.assertEqual(mc.verdict(0, 0), "-")


class Pooling(unittest.TestCase):
    def rec(self, seed, obj, target, inside, err=100.0):
        return {
            "scenario": "s", "seed": seed, "object_id": obj, "target_time_to_go_s": target,
            "time_to_go_s": target or 5.0, "error_m": err, "error_major_m": err,
            "error_minor_m": 0.0, "semi_major_m": 245.0, "semi_minor_m": 100.0,
            "mahalanobis2": 1.0, "inside_95": inside, "time_error_s": 0.0,
        }

    def test_rows_per_time_to_go_and_object(self):
        recs = [self.rec(1, 1, 60.0, True), self.rec(2, 1, 60.0, False),
                self.rec(1, 2, 60.0, True), self.rec(1, 1, None, True)]
        rows = mc.summarise(recs, False)
        self.assertEqual([r["time_to_go_s"] for r in rows], [60.0, None])
        self.assertEqual((rows[0]["samples"], rows[0]["inside"], rows[0]["runs"]), (3, 2, 2))
        by_obj = mc.summarise(recs, True)
        self.assertEqual([(r["object_id"], r["samples"]) for r in by_obj], [(1, 2), (1, 1), (2, 1)])
        # 100 m along a semi-major of 245 m: 100 / (245 / 2.4477) sigma.
        self.assertAlmostEqual(rows[0]["major_bias_sigma"], 100 / (245 / mc.SQRT_CHI2_2_95))


if __name__ == "__main__":
    unittest.main()
