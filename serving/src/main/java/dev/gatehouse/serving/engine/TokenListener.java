package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.sample.SampledToken;

/** Receives a generation as it happens. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param textDelta text completed by this token (may be empty: half a UTF-8 character, or a
     *                  possible stop string held back)
     * @param token     the sampled token, or null for text released when generation ends
     */
    void onToken(String textDelta, SampledToken token);
}
