package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.ModelConfig;

/** A decoder-only language model: new tokens in, next-token logits out, past keys and values in a {@link KvCache}. */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** The dtype weights, activations and the cache use on this model's device. */
    DataType dtype();

    /** A cache of {@code blocks} blocks of {@link KvCache#BLOCK_SIZE} positions, shared by the sequences it serves. */
    KvCache newCache(int blocks);

    /**
     * Runs the batch's new tokens through the model, storing their keys and values in the cache.
     * Everything it creates lives in {@code step}, which the caller closes after the step.
     *
     * @return FP32 logits [batchSize, vocab] for the last new token of each sequence
     */
    NDArray forward(StepBatch batch, KvCache cache, NDManager step);

    @Override
    void close();
}
