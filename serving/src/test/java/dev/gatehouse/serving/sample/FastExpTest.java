package dev.gatehouse.serving.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FastExpTest {

    @Test
    void matchesMathExpToFloatPrecision() {
        double worst = 0;
        for (double x = -86.99; x <= 0; x += 0.000731) {
            worst = Math.max(worst, Math.abs(FastExp.exp(x) / Math.exp(x) - 1));
        }
        assertTrue(worst < 3e-8, "worst relative error " + worst);
        assertEquals(1.0, FastExp.exp(0), 0);
    }

    @Test
    void clampsTheFarTailAndKeepsNaN() {
        assertEquals(FastExp.FLOOR, (float) FastExp.exp(Double.NEGATIVE_INFINITY));
        assertEquals(FastExp.FLOOR, (float) FastExp.exp(-1e30));
        assertTrue(Double.isNaN(FastExp.exp(Double.NaN)));
    }

    @Test
    void arrayFormShiftsAndScales() {
        float[] x = {3f, 1f, -2f};
        FastExp.exp(x, x, 3f, 0.5f);
        assertEquals(1f, x[0]);
        assertEquals((float) Math.exp(-1), x[1], 1e-7);
        assertEquals((float) Math.exp(-2.5), x[2], 1e-7);
    }
}
