package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.StoreConfig;
import dev.gatehouse.gateway.store.Database;
import java.nio.file.Path;

/** The store a CLI command opens: {@code --db} (an SQLite file), else {@code store} of {@code --config}, else the default file. */
final class StoreChoice {
    private StoreChoice() {
    }

    static Database of(Path db, Path config) {
        if (db != null) {
            return Database.sqlite(db);
        }
        return Database.of(config == null ? StoreConfig.DEFAULT : GatehouseConfig.load(config, System.getenv()).store());
    }
}
