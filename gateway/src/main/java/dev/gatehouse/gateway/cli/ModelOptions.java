package dev.gatehouse.gateway.cli;

import dev.gatehouse.serving.engine.DeviceChoice;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where models are and where they run: options shared by the commands that load models. */
public final class ModelOptions {
    @Mixin
    ModelStore store;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    DeviceChoice device() {
        return DeviceChoice.parse(device);
    }
}
