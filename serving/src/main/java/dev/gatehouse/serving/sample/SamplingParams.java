package dev.gatehouse.serving.sample;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Per-request sampling settings. Neutral values switch a feature off: temperature 0 = greedy,
 * topK 0, topP 1, minP 0, repetitionPenalty 1, presence/frequency 0. {@code seed} null = random.
 * {@code maxTokens}, {@code stop} and {@code ignoreEos} are for the decode loop, not the Sampler.
 *
 * <p>Penalties: repetitionPenalty follows Hugging Face (every token seen in prompt or output:
 * logit > 0 ? logit / p : logit * p); presence/frequency follow OpenAI and count generated tokens
 * only (logit -= count * frequency + (count > 0 ? presence : 0)).
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        Long seed,
        int maxTokens,
        List<String> stop,
        boolean logprobs,
        int topLogprobs,
        boolean ignoreEos) {

    /** OpenAI's chat default: no explicit cap; the caller bounds it by the context window. */
    public static final int DEFAULT_MAX_TOKENS = Integer.MAX_VALUE;
    public static final int MAX_TOP_LOGPROBS = 20;

    public SamplingParams {
        // null-tolerant copy so validate() can report bad entries instead of a bare NPE here
        stop = stop == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(stop));
    }

    /** OpenAI defaults: temperature 1, everything else off. */
    public static SamplingParams defaults() {
        return new SamplingParams(1f, 0, 1f, 0f, 1f, 0f, 0f, null, DEFAULT_MAX_TOKENS, List.of(), false, 0, false);
    }

    /** Greedy decoding, all filters and penalties off. */
    public static SamplingParams greedy() {
        return defaults().withTemperature(0f);
    }

    public boolean isGreedy() {
        return temperature == 0f || topK == 1;
    }

    /**
     * Rejects out-of-range values with the request (OpenAI/vLLM wire) name of the parameter in the
     * message, so the gateway can pass it straight back as a 400.
     */
    public SamplingParams validate() {
        // written as !(in range) so NaN fails every check
        check(maxTokens > 0, "max_tokens", "must be > 0, got " + maxTokens);
        check(temperature >= 0f && temperature <= 100f, "temperature", "must be in [0, 100], got " + temperature);
        check(topK >= 0, "top_k", "must be >= 0 (0 = off), got " + topK);
        check(topP > 0f && topP <= 1f, "top_p", "must be in (0, 1], got " + topP);
        check(minP >= 0f && minP <= 1f, "min_p", "must be in [0, 1], got " + minP);
        check(repetitionPenalty > 0f && repetitionPenalty < Float.POSITIVE_INFINITY, "repetition_penalty",
                "must be > 0 and finite, got " + repetitionPenalty);
        check(presencePenalty >= -2f && presencePenalty <= 2f, "presence_penalty",
                "must be in [-2, 2], got " + presencePenalty);
        check(frequencyPenalty >= -2f && frequencyPenalty <= 2f, "frequency_penalty",
                "must be in [-2, 2], got " + frequencyPenalty);
        check(topLogprobs >= 0 && topLogprobs <= MAX_TOP_LOGPROBS, "top_logprobs",
                "must be in [0, " + MAX_TOP_LOGPROBS + "], got " + topLogprobs);
        for (String s : stop) {
            check(s != null && !s.isEmpty(), "stop", "entries must be non-empty strings");
        }
        return this;
    }

    private static void check(boolean ok, String name, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(name + " " + problem);
        }
    }

    public SamplingParams withTemperature(float v) {
        return new SamplingParams(v, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withTopK(int v) {
        return new SamplingParams(temperature, v, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withTopP(float v) {
        return new SamplingParams(temperature, topK, v, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withMinP(float v) {
        return new SamplingParams(temperature, topK, topP, v, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withRepetitionPenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, v, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withPresencePenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, v, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withFrequencyPenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, v, seed, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withSeed(Long v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, v, maxTokens, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withMaxTokens(int v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, v, stop, logprobs, topLogprobs, ignoreEos);
    }

    public SamplingParams withStop(List<String> v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, v, logprobs, topLogprobs, ignoreEos);
    }

    /** Turns logprobs on or off; {@code top} alternatives per token (0..20). */
    public SamplingParams withLogprobs(boolean on, int top) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, on, top, ignoreEos);
    }

    public SamplingParams withIgnoreEos(boolean v) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens, stop, logprobs, topLogprobs, v);
    }
}
