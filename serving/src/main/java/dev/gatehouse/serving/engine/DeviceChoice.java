package dev.gatehouse.serving.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** Where a model runs: {@code auto} takes the first CUDA GPU DJL sees, else the CPU. */
public enum DeviceChoice {
    AUTO, CPU, CUDA;

    public static DeviceChoice parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("device must be auto, cpu or cuda, not '" + value + "'");
        }
    }

    public Device resolve() {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        return switch (this) {
            case CPU -> Device.cpu();
            case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
            case CUDA -> {
                if (gpus == 0) {
                    throw new IllegalStateException("device cuda was asked for but PyTorch sees no CUDA GPU "
                            + "(is this a CPU build? GPU builds use the Maven profile -Pcuda)");
                }
                yield Device.gpu();
            }
        };
    }
}
