package dev.gatehouse.gateway.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where models live: {@code --model-store}, else $GATEHOUSE_MODEL_STORE, else ./model-store. */
public final class ModelStore {
    private ModelStore() {}

    static Path root(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv("GATEHOUSE_MODEL_STORE");
        return Path.of(env != null && !env.isBlank() ? env : "model-store");
    }

    /** A model given as a folder path, or as the name of a folder in the store. */
    static Path resolve(String model, Path store) {
        Path asPath = Path.of(model);
        if (Files.isDirectory(asPath)) {
            return asPath;
        }
        Path inStore = store.resolve(model);
        if (Files.isDirectory(inStore)) {
            return inStore;
        }
        throw new IllegalArgumentException("model '" + model + "' is neither a folder nor in the model store "
                + store.toAbsolutePath());
    }
}
