package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.policy.BudgetPeriod;
import dev.gatehouse.gateway.store.KeyStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse keys create|list|revoke}: virtual keys in the same store the server reads. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage virtual API keys.",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
public final class KeysCommand {
    @Option(names = "--db", description = "An SQLite key store (default: the store of --config, else data/gatehouse.db).")
    Path db;

    @Option(names = "--config", description = "gatehouse.yaml, read for store (path or jdbc-url).")
    Path config;

    KeyStore open() {
        return KeyStore.open(StoreChoice.of(db, config));
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a key; it is printed once.")
    static final class Create implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;
        @Spec
        CommandSpec spec;
        @Option(names = "--name", required = true)
        String name;
        @Option(names = "--models", split = ",", description = "Allowed models, comma-separated (default: all).")
        List<String> models = List.of();
        @Option(names = "--expires-at", description = "ISO-8601 instant, e.g. 2030-01-01T00:00:00Z.")
        Instant expiresAt;
        @Option(names = "--rpm") Integer rpm;
        @Option(names = "--tpm") Integer tpm;
        @Option(names = "--max-concurrent", description = "Requests in flight at once.") Integer maxConcurrent;
        @Option(names = "--max-budget-usd") Double maxBudgetUsd;
        @Option(names = "--budget-period", description = "When the budget starts over: 30s, 15m, 12h, 30d, 2w, 1mo.")
        String budgetPeriod;

        @Override
        public Integer call() {
            try (KeyStore keys = parent.open()) {
                KeyStore.Created c = keys.create(new KeyStore.Spec(name, List.copyOf(models), rpm, tpm, maxConcurrent,
                        maxBudgetUsd, budgetPeriod == null ? null : BudgetPeriod.parse(budgetPeriod).toString(), expiresAt));
                spec.commandLine().getOut().println("id:  " + c.id());
                spec.commandLine().getOut().println("key: " + c.key() + "   (shown once: only its hash is stored)");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never their secrets).")
    static final class ListKeys implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (KeyStore keys = parent.open()) {
                for (KeyStore.Key k : keys.list()) {
                    spec.commandLine().getOut().printf("%-22s %-20s models=%s expires=%s%n", k.id(), k.spec().name(),
                            k.spec().models().isEmpty() ? "*" : String.join(",", k.spec().models()),
                            k.spec().expiresAt() == null ? "never" : k.spec().expiresAt());
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Delete a key by id.")
    static final class Revoke implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            try (KeyStore keys = parent.open()) {
                if (!keys.revoke(id)) {
                    spec.commandLine().getErr().println("error: no key with id " + id);
                    return 1;
                }
                spec.commandLine().getOut().println("revoked " + id);
            }
            return 0;
        }
    }
}
