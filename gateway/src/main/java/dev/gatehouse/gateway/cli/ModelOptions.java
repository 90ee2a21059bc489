package dev.gatehouse.gateway.cli;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.MemoryBudget;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where models are and where they run: options shared by the commands that load models. */
public final class ModelOptions {
    @Mixin
    ModelStore store;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--memory-limit-mb", defaultValue = "0", description = "Most memory the models loaded on the CPU may "
            + "take together; a model whose estimate does not fit is refused. 0 = what the machine (or container) has free "
            + "(default: ${DEFAULT-VALUE}).")
    long memoryLimitMb;

    MemoryBudget memoryBudget() {
        if (memoryLimitMb < 0 || memoryLimitMb > 1L << 30) { // past a pebibyte the shift to bytes would overflow
            throw new IllegalArgumentException("--memory-limit-mb must be 0 (what the machine has free) or a number of MiB, not "
                    + memoryLimitMb);
        }
        return new MemoryBudget(memoryLimitMb << 20);
    }

    DeviceChoice device() {
        return DeviceChoice.parse(device);
    }
}
