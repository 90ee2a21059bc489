package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.ModelConfig;

/** What every architecture shares: its config, the manager that owns its weights, its dtype and cache shape. */
abstract class DecoderModel implements CausalLM {
    protected final ModelConfig cfg;
    protected final NDManager manager;
    protected final DataType dtype;

    /** The loader's dtype is FLOAT16 or FLOAT32: DJL 0.36 aborts the JVM on any BFLOAT16 tensor it creates or casts to */
    DecoderModel(ModelConfig cfg, WeightLoader weights) {
        NDManager manager = weights.manager();
        DataType dtype = weights.dtype();
        if (dtype != DataType.FLOAT16 && dtype != DataType.FLOAT32) {
            throw new IllegalArgumentException("a decoder computes in float16 or float32, not " + dtype);
        }
        this.cfg = cfg;
        this.manager = manager;
        this.dtype = dtype;
    }

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public KvCache newCache(int blocks) {
        return new KvCache(manager, cfg.numLayers(), blocks, cfg.numKvHeads(), cfg.headDim(), dtype);
    }

    @Override
    public void close() {
        manager.close();
    }
}
