package dev.gatehouse.serving.sample;

/** One alternative token and its log-probability under the model's raw distribution. */
public record TopLogprob(int tokenId, float logprob) {
}
