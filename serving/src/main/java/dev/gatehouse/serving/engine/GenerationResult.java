package dev.gatehouse.serving.engine;

/**
 * A finished generation.
 *
 * @param prefillNanos time to run the prompt (up to the first sampled token)
 * @param decodeNanos time for the remaining tokens
 */
public record GenerationResult(String text, int[] promptTokenIds, int[] tokenIds, FinishReason finishReason,
                               long prefillNanos, long decodeNanos) {

    public double promptTokensPerSecond() {
        return promptTokenIds.length / (prefillNanos / 1e9);
    }

    /** Tokens per second after the first one (each costs one decode step). */
    public double decodeTokensPerSecond() {
        return tokenIds.length <= 1 ? 0 : (tokenIds.length - 1) / (decodeNanos / 1e9);
    }
}
