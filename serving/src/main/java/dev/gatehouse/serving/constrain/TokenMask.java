package dev.gatehouse.serving.constrain;

/** The tokens allowed in one parse state, as a bit per token id. Immutable once built. */
final class TokenMask {
    private final long[] bits;

    TokenMask(long[] bits) {
        this.bits = bits;
    }

    boolean allows(int id) {
        return id >= 0 && id >> 6 < bits.length && (bits[id >> 6] & 1L << id) != 0;
    }

    /** Sets every logit of a token not allowed to -infinity (ids past the vocabulary too). */
    void apply(float[] logits) {
        int words = Math.min(bits.length, (logits.length + 63) >> 6);
        for (int w = 0; w < words; w++) {
            long keep = bits[w];
            if (keep == -1L) {
                continue;
            }
            int base = w << 6;
            int end = Math.min(64, logits.length - base);
            for (int j = 0; j < end; j++) {
                if ((keep & 1L << j) == 0) {
                    logits[base + j] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        for (int i = words << 6; i < logits.length; i++) {
            logits[i] = Float.NEGATIVE_INFINITY;
        }
    }
}
