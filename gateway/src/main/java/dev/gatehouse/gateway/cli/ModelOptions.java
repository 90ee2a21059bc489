package dev.gatehouse.gateway.cli;

import dev.gatehouse.serving.engine.DeviceChoice;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where models are and where they run: options shared by the commands that load models. */
public final class ModelOptions {
    @Option(names = "--model-store", description = "Model store folder (default: $GATEHOUSE_MODEL_STORE or ./model-store).")
    Path modelStore;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda (default: ${DEFAULT-VALUE}).")
    String device;

    Path store() {
        return ModelStore.root(modelStore);
    }

    DeviceChoice device() {
        return DeviceChoice.parse(device);
    }
}
