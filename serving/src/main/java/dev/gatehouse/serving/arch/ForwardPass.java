package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;

/**
 * One forward pass that may run a layer at a time ({@link CausalLM#start}): between two calls of
 * {@link #advance} the caller may run other passes over other sequences' KV blocks, as the engine
 * does to prefill a newly arrived prompt in the middle of a long decode pass.
 */
public interface ForwardPass {

    /** Runs the next slice of the pass (a layer, or the whole pass where it cannot pause); true once every layer has run. */
    boolean advance();

    /** The pass's FP32 logits [batchSize, vocab], once {@link #advance} has returned true. */
    NDArray logits();
}
