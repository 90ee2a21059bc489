package dev.gatehouse.gateway.ui;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.hub.FakeHub;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser (Debian's headless chromium through its chromedriver): signing in,
 * charts of requests the test made, usage by model, a key created and revoked, a model pulled from a
 * fake Hub with its progress. Screenshots of each page land in target/dashboard-screenshots.
 */
class DashboardBrowserTest {
    private static final String MASTER = "master-secret";
    private static final String REPO = "test-org/tiny-pulled";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target/dashboard-screenshots");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static FakeHub hub;
    static KeyStore keys;
    static TestServer server;
    static WebDriver browser;
    static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (System.getenv("CI") == null) {
            assumeTrue(present, "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)");
        }
        assertTrue(present, "CI installs chromium and chromium-driver (.ci/run)");
        Path source = TestModelFolder.llama().seed(7).write(Files.createDirectories(dir.resolve("hub/tiny-pulled")));
        hub = new FakeHub().add(REPO, source, "0123456789abcdef0123456789abcdef01234567", null);
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        // "assistant" tries a provider that is down, then the local model: each request falls back once
        GatehouseConfig routes = GatehouseConfig.parse("""
                providers:
                  down: {type: openai-compatible, base-url: http://127.0.0.1:%d/v1, circuit-breaker: {failures: 2}}
                models:
                  - {name: assistant, targets: [{provider: down, model: m}, {local: %s}]}
                """.formatted(closedPort(), TestServer.MODEL), Map.of());
        server = TestServer.start(dir, routes, (s, registry) -> s.auth(new ApiAuth(MASTER, keys))
                .usage(new UsageRecorder(Pricing.of(GatehouseConfig.empty()), UsageLog.open(dir.resolve("usage.db")),
                        Clock.systemUTC(), registry))
                .store(LocalStore.of(dir.resolve("model-store"), DeviceChoice.CPU, EngineConfig.defaults()),
                        new HubClient(hub.url(), null)));
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build(),
                options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.ignoring(StaleElementReferenceException.class); // live pages redraw their tables every few seconds
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
        if (keys != null) {
            keys.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    @BeforeEach
    void signIn() {
        browser.manage().deleteAllCookies();
        browser.get(server.url() + "/ui/");
        browser.findElement(By.id("key")).sendKeys(MASTER);
        browser.findElement(By.id("sign-in")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("overview")));
    }

    /** A loopback port nothing listens on. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static HttpResponse<String> chat(String key) throws Exception {
        return chat(key, TestServer.MODEL);
    }

    private static HttpResponse<String> chat(String key, String model) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.v1() + "/chat/completions"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                        + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void open(String page) {
        browser.findElement(By.cssSelector("nav a[data-page='" + page + "']")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id(page)));
    }

    private static void screenshot(String name) throws IOException {
        File shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String tableText(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    @Test
    void aWrongKeyDoesNotSignIn() {
        browser.manage().deleteAllCookies();
        browser.get(server.url() + "/ui/");
        browser.findElement(By.id("key")).sendKeys("not-the-key");
        browser.findElement(By.id("sign-in")).click();

        wait.until(d -> d.findElement(By.id("message")).getText().equals("That is not the master key.")); // the answer page
        assertTrue(browser.findElements(By.id("overview")).isEmpty(), "no dashboard without the key");
    }

    @Test
    void theOverviewChartsTheRequestsJustMade() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, chat(MASTER).statusCode());
        }
        browser.navigate().refresh();

        wait.until(d -> d.findElement(By.id("total-requests")).getText().matches("[3-9] requests|\\d{2,} requests"));
        assertEquals(5, browser.findElements(By.cssSelector("#overview .uplot canvas")).size(), "five charts drawn");
        screenshot("overview");
    }

    @Test
    void usageByModelListsTheServedModel() throws Exception {
        assertEquals(200, chat(MASTER).statusCode());
        open("usage");
        new Select(browser.findElement(By.id("usage-group"))).selectByValue("model");
        browser.findElement(By.cssSelector("#usage-form button[type=submit]")).click();

        wait.until(d -> tableText("usage-table").contains(TestServer.MODEL));
        screenshot("usage");
    }

    @Test
    void aKeyCreatedHereWorksAtOnceAndStopsWorkingWhenRevoked() throws Exception {
        open("keys");
        browser.findElement(By.id("key-name")).sendKeys("browser-made");
        browser.findElement(By.id("key-rpm")).sendKeys("60");
        browser.findElement(By.cssSelector("#key-form button[type=submit]")).click();
        WebElement shown = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("new-key-value")));
        String key = shown.getText();
        wait.until(d -> tableText("keys-table").contains("browser-made"));
        screenshot("keys");

        assertEquals(200, chat(key).statusCode(), "the key shown once works");

        WebElement row = browser.findElements(By.cssSelector("#keys-table tbody tr")).stream()
                .filter(r -> r.getText().contains("browser-made")).findFirst().orElseThrow();
        row.findElement(By.xpath(".//button[text()='Revoke']")).click();
        browser.switchTo().alert().accept();
        wait.until(d -> !tableText("keys-table").contains("browser-made"));

        assertEquals(401, chat(key).statusCode(), "a revoked key is refused");
    }

    @Test
    void aModelPulledHereShowsItsProgressThenLoads() throws Exception {
        open("models");
        browser.findElement(By.id("pull-repo")).sendKeys(REPO);
        browser.findElement(By.cssSelector("#pull-form button[type=submit]")).click();

        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".pull[data-repo='" + REPO + "'] progress")));
        wait.until(d -> d.findElement(By.cssSelector(".pull[data-repo='" + REPO + "']")).getText().contains("done"));
        String pulled = "test-org--tiny-pulled";
        wait.until(d -> tableText("models-table").contains(pulled));
        wait.until(d -> {
            d.findElements(By.cssSelector("#models-table tbody tr")).stream().filter(r -> r.getText().contains(pulled))
                    .findFirst().orElseThrow().findElement(By.xpath(".//button[text()='Load']")).click();
            return true;
        });
        wait.until(d -> d.findElements(By.cssSelector("#models-table tbody tr")).stream()
                .anyMatch(r -> r.getText().contains(pulled) && r.getText().contains("loaded")
                        && !r.getText().contains("not-loaded") && r.getText().contains("%"))); // its prefix-cache hit rate
        screenshot("models");
    }

    @Test
    void aProviderThatIsDownShowsItsOpenCircuitAndTheFallbacksItCaused() throws Exception {
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> answer = chat(MASTER, "assistant");
            assertEquals(200, answer.statusCode(), answer.body());
        }
        open("fallbacks");

        wait.until(d -> tableText("providers-table").contains("down") && tableText("providers-table").contains("open"));
        wait.until(d -> tableText("fallbacks-table").contains("down:m"));
        assertTrue(tableText("fallbacks-table").contains("local:" + TestServer.MODEL), tableText("fallbacks-table"));
        screenshot("fallbacks");
    }

    @Test
    void aChangeWithTheSessionCookieButWithoutItsCsrfTokenIsRefused() throws Exception {
        String session = browser.manage().getCookieNamed("gatehouse_session").getValue();
        assertTrue(browser.manage().getCookieNamed("gatehouse_session").isHttpOnly());
        assertEquals("Strict", browser.manage().getCookieNamed("gatehouse_session").getSameSite());

        HttpResponse<String> forged = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/admin/keys"))
                .header("Cookie", "gatehouse_session=" + session).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"forged\"}")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> read = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/admin/keys"))
                .header("Cookie", "gatehouse_session=" + session).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(403, forged.statusCode(), forged.body());
        assertTrue(forged.body().contains("csrf_token_missing"), forged.body());
        assertEquals(200, read.statusCode(), "reads need only the session");
        assertFalse(read.body().contains("forged"));
        assertTrue(keys.list().stream().noneMatch(k -> k.spec().name().equals("forged")));
    }
}
