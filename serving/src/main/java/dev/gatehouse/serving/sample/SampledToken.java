package dev.gatehouse.serving.sample;

import java.util.List;

/**
 * The token chosen at one step. {@code logprob} and {@code topLogprobs} describe the model's raw
 * distribution (before penalties, temperature and truncation), as OpenAI and vLLM report them;
 * they are NaN / empty when logprobs were not requested.
 */
public record SampledToken(int tokenId, float logprob, List<TopLogprob> topLogprobs) {
    public SampledToken {
        topLogprobs = List.copyOf(topLogprobs);
    }
}
