package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.sample.SampledToken;

/** Receives a {@link Generator}'s tokens as they are sampled. */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param textDelta text completed by this token (may be empty: half a UTF-8 character, a
     *                  possible stop string held back, or an eos token)
     * @param token     the sampled token
     */
    void onToken(String textDelta, SampledToken token);
}
