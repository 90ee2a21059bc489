package dev.gatehouse.gateway.cli;

import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code --model-store} option every command that touches the store shares (a picocli mixin):
 * the option, else $GATEHOUSE_MODEL_STORE, else ./model-store.
 */
public final class ModelStore {
    @Option(names = "--model-store", description = "Model store folder (default: $GATEHOUSE_MODEL_STORE or ./model-store).")
    Path option;

    Path root() {
        if (option != null) {
            return option;
        }
        String env = System.getenv("GATEHOUSE_MODEL_STORE");
        return Path.of(env != null && !env.isBlank() ? env : "model-store");
    }

    /** A model given as a folder path, or as the name of a folder in the store. */
    Path resolve(String model) {
        Path asPath = Path.of(model);
        if (Files.isDirectory(asPath)) {
            return asPath;
        }
        Path inStore = root().resolve(model);
        if (Files.isDirectory(inStore)) {
            return inStore;
        }
        throw new IllegalArgumentException("model '" + model + "' is neither a folder nor in the model store "
                + root().toAbsolutePath());
    }
}
