package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.StoreConfig;
import dev.gatehouse.gateway.store.Database;
import java.nio.file.Files;
import java.nio.file.Path;

/** The store a CLI command opens: {@code --db} (an SQLite file), else {@code store} of {@code --config}, else the default file. */
final class StoreChoice {
    private StoreChoice() {
    }

    static Database of(Path db, Path config) {
        return Database.of(store(db, config));
    }

    /** For commands that only read: a mistyped path is an error, not a new empty store. */
    static Database existing(Path db, Path config) {
        StoreConfig store = store(db, config);
        if (!store.postgres() && !Files.isRegularFile(store.path())) {
            throw new IllegalArgumentException("no store at " + store.path().toAbsolutePath()
                    + ": the server creates it on its first start; pass --db FILE or --config gatehouse.yaml");
        }
        return Database.of(store);
    }

    private static StoreConfig store(Path db, Path config) {
        if (db != null) {
            return StoreConfig.sqlite(db);
        }
        return config == null ? StoreConfig.DEFAULT : GatehouseConfig.load(config, System.getenv()).store();
    }
}
