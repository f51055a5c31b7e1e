package io.gregor.compat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console in a real browser: Debian's headless chromium, driven through its chromedriver by
 * Selenium, with JavaScript turned off (the console needs none). It finds a topic a stock client created,
 * shows a record kcat produced, produces one a stock consumer then reads, shows a group's lag drop once
 * the group consumes, and creates and deletes a topic with its forms. Each page's screenshot is written
 * to target/console-screenshots (and to {@code -Dgregor.console.screenshots=DIR}, e.g. ../docs).
 */
class ConsoleBrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String KCAT = "/usr/bin/kcat";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static TestBroker broker;
    private static String base;
    private static ChromeDriver browser;
    private static Path profile;
    /** Held so the level sticks: Selenium's CDP bindings are not needed for the CDP commands used here. */
    private static final java.util.logging.Logger SELENIUM_DEVTOOLS = java.util.logging.Logger.getLogger(
            "org.openqa.selenium.devtools");

    @BeforeAll
    static void start() {
        for (String program : List.of(CHROMIUM, CHROMEDRIVER, KCAT)) {
            assertThat(Files.isExecutable(Path.of(program)))
                    .as(program + " is required: .ci/install-clients installs chromium, chromium-driver and kcat").isTrue();
        }
        broker = TestBroker.start("ConsoleBrowserTest", Map.of("gregor.http.listener", "127.0.0.1:0",
                "group.initial.rebalance.delay.ms", "0"));
        InetSocketAddress address = broker.broker().controlEndpointAddress().orElseThrow();
        base = "http://127.0.0.1:" + address.getPort();
        SELENIUM_DEVTOOLS.setLevel(java.util.logging.Level.SEVERE);
        profile = TestDirs.newDataDir("chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + profile);
        // the console is server-rendered with plain forms: it must work without scripts
        options.setExperimentalOption("prefs", Map.of("profile.managed_default_content_settings.javascript", 2));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort().withLogFile(TestDirs.newLogFile("chromedriver").toFile()).build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(TIMEOUT);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (broker != null) {
            broker.close();
        }
        if (profile != null) {
            TestDirs.deleteRecursively(profile);
        }
    }

    @Test
    void browsesProducesAndWatchesAGroupCatchUp() throws Exception {
        String topic = "orders";
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, topic, 3, Map.of("retention.ms", "604800000", "max.message.bytes", "2097152"));
        }
        ToolRunner.Result kcat = ToolRunner.run(List.of(KCAT, "-b", broker.bootstrapServers(), "-P", "-t", topic,
                "-p", "0", "-k", "order-1001", "-H", "source=kcat"), "{\"item\":\"coffee\",\"qty\":2}\n", TIMEOUT);
        assertThat(kcat.exitCode()).as(kcat.describe()).isZero();

        // the cluster page, then the topic list through the navigation, as a person would
        browser.get(base + "/");
        assertThat(browser.getTitle()).contains("Cluster");
        assertThat(text()).contains("this broker", "controller", broker.bootstrapServers());
        screenshot("cluster");
        clickThrough(browser.findElement(By.linkText("Topics")));
        WebElement row = rowContaining(topic);
        assertThat(cells(row)).startsWith(topic, "3", "1", "1");
        screenshot("topics");

        clickThrough(row.findElement(By.linkText(topic)));
        assertThat(browser.getCurrentUrl()).isEqualTo(base + "/topics/" + topic);
        List<String> partition0 = cells(tableAfter("Partitions").get(0));
        assertThat(partition0.subList(0, 4)).as("partition, leader, replicas, ISR").containsExactly("0", "0", "0", "0");
        assertThat(partition0.get(4)).as("size").matches("\\d+ B");
        assertThat(partition0.subList(5, 10)).as("log start, log end, high watermark, records")
                .containsExactly("0", "1", "1", "1", "Browse");
        assertThat(cells(rowContaining("retention.ms"))).containsExactly("retention.ms", "604800000", "topic override");
        screenshot("topic");

        // the kcat record, with its key and header
        clickThrough(tableAfter("Partitions").get(0).findElement(By.linkText("Browse")));
        List<WebElement> records = recordRows();
        assertThat(records).hasSize(1);
        assertThat(cells(records.get(0))).containsSequence("0").contains("order-1001", "{\"item\":\"coffee\",\"qty\":2}",
                "source = kcat");

        // a record produced with the console's form, read by a stock consumer
        browser.findElement(By.cssSelector("form[method=post] select[name=partition] option[value='0']")).click();
        browser.findElement(By.name("key")).sendKeys("order-1002");
        browser.findElement(By.name("value")).sendKeys("{\"item\":\"tea\",\"qty\":1}");
        browser.findElement(By.name("headers")).sendKeys("source=console");
        clickThrough(browser.findElement(By.xpath("//button[text()='Produce']")));
        assertThat(text()).contains("Produced a record at offset 1 of partition 0.");
        ConsumerRecord<String, String> fromConsole;
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers())) {
            List<ConsumerRecord<String, String>> read = Clients.readFromBeginning(consumer,
                    List.of(new TopicPartition(topic, 0)), 2);
            fromConsole = read.get(1);
        }
        assertThat(fromConsole.offset()).isEqualTo(1);
        assertThat(fromConsole.key()).isEqualTo("order-1002");
        assertThat(fromConsole.value()).isEqualTo("{\"item\":\"tea\",\"qty\":1}");
        assertThat(new String(fromConsole.headers().lastHeader("source").value(), StandardCharsets.UTF_8))
                .isEqualTo("console");

        // from a time: the console's record onwards only
        browser.get(base + "/topics/" + topic + "/records?partition=0");
        assertThat(recordRows()).hasSize(2);
        WebElement time = browser.findElement(By.name("time"));
        time.clear();
        time.sendKeys(java.time.Instant.ofEpochMilli(fromConsole.timestamp()).toString());
        clickThrough(browser.findElement(By.xpath("//button[text()='Show']")));
        assertThat(recordRows()).singleElement().satisfies(r -> assertThat(cells(r).get(0)).isEqualTo("1"));
        browser.get(base + "/topics/" + topic + "/records?partition=0");
        screenshot("records");

        // a group's committed offsets and lag, before and after it consumes the rest
        String lagTopic = "clicks";
        String group = "billing-service";
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            Clients.createTopic(admin, lagTopic, 1, Map.of());
        }
        try (KafkaProducer<String, String> producer = Clients.producer(broker.bootstrapServers())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(lagTopic, 0, "user-" + i, "click " + i));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition(lagTopic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.bootstrapServers(),
                Map.of("group.id", group, "client.id", "billing-1", "max.poll.records", 4))) {
            consumer.subscribe(List.of(lagTopic));
            List<ConsumerRecord<String, String>> first = new ArrayList<>();
            await("a first poll").atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(first::add);
                return !first.isEmpty();
            });
            long committed = first.get(first.size() - 1).offset() + 1;
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(committed)));
            assertThat(committed).isLessThan(10);

            browser.get(base + "/groups");
            assertThat(cells(rowContaining(group))).containsExactly(group, "Stable", "consumer", "1");
            screenshot("groups");
            clickThrough(browser.findElement(By.linkText(group)));
            assertThat(cells(tableAfter("Members").get(0))).contains("billing-1", lagTopic + "-0");
            assertThat(cells(tableAfter("Offsets and lag").get(0)))
                    .containsExactly(lagTopic, "0", String.valueOf(committed), "10", String.valueOf(10 - committed), "billing-1");
            screenshot("group");

            await("the rest consumed").atMost(TIMEOUT).until(() -> {
                ConsumerRecords<String, String> more = consumer.poll(Duration.ofMillis(200));
                return consumer.position(tp) == 10;
            });
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(10)));
            browser.navigate().refresh();
            assertThat(cells(tableAfter("Offsets and lag").get(0)))
                    .containsExactly(lagTopic, "0", "10", "10", "0", "billing-1");
        }

        // create a topic with the form, see a stock admin client find it, then delete it with the form
        String made = "made-in-console";
        browser.get(base + "/topics");
        browser.findElement(By.name("name")).sendKeys(made);
        browser.findElement(By.name("partitions")).sendKeys("2");
        browser.findElement(By.name("configs")).sendKeys("cleanup.policy=compact");
        clickThrough(browser.findElement(By.xpath("//button[text()='Create topic']")));
        assertThat(browser.getCurrentUrl()).isEqualTo(base + "/topics/" + made + "?created");
        assertThat(text()).contains("Created topic " + made + ".");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.describeTopics(List.of(made)).allTopicNames()).get(made).partitions()).hasSize(2);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, made);
            Config config = Clients.get(admin.describeConfigs(List.of(resource)).all()).get(resource);
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        }
        browser.findElement(By.name("confirm")).click();
        clickThrough(browser.findElement(By.xpath("//button[text()='Delete topic']")));
        assertThat(browser.getCurrentUrl()).isEqualTo(base + "/topics?deleted=" + made);
        assertThat(text()).contains("Deleted topic " + made + ".");
        try (Admin admin = Clients.admin(broker.bootstrapServers())) {
            assertThat(Clients.get(admin.listTopics().names())).doesNotContain(made).contains(topic);
        }

        // a refused create says why and keeps what was typed
        browser.get(base + "/topics");
        browser.findElement(By.name("name")).sendKeys(topic);
        clickThrough(browser.findElement(By.xpath("//button[text()='Create topic']")));
        assertThat(text()).contains("Cannot create topic " + topic + ": Topic '" + topic + "' already exists.");
        assertThat(browser.findElement(By.name("name")).getAttribute("value")).isEqualTo(topic);

        browser.get(base + "/api");
        screenshot("api");
    }

    /**
     * Clicks a link or a form's button and waits until the next page replaced this one: the click can return
     * before the navigation it starts (seen under load in CI), and the URL and text checks must see the new page.
     */
    private static void clickThrough(org.openqa.selenium.WebElement target) {
        org.openqa.selenium.WebElement page = browser.findElement(By.tagName("html"));
        target.click();
        org.awaitility.Awaitility.await().atMost(TIMEOUT).until(() -> {
            try {
                page.isEnabled();
                return false;
            } catch (org.openqa.selenium.StaleElementReferenceException replaced) {
                return true;
            }
        });
    }

    /** The page's text; a page still arriving after a form post has no body for a moment, so it is waited for. */
    private static String text() {
        return org.awaitility.Awaitility.await().atMost(TIMEOUT).ignoreExceptions()
                .until(() -> browser.findElement(By.tagName("body")).getText(), text -> true);
    }

    private static WebElement rowContaining(String text) {
        return browser.findElement(By.xpath("//tr[td[normalize-space(.)='" + text + "' or a[normalize-space(.)='"
                + text + "']]]"));
    }

    /** The data rows of the first table after the heading {@code h2}. */
    private static List<WebElement> tableAfter(String h2) {
        return browser.findElements(By.xpath("//h2[normalize-space(.)='" + h2 + "']/following-sibling::table[1]/tbody/tr"));
    }

    private static List<WebElement> recordRows() {
        List<WebElement> rows = browser.findElements(By.xpath("//table[thead/tr/th[normalize-space(.)='Key']]/tbody/tr"));
        return rows.stream().filter(r -> !r.getText().equals("No records here.")).toList();
    }

    private static List<String> cells(WebElement row) {
        return row.findElements(By.tagName("td")).stream().map(WebElement::getText).map(String::trim).toList();
    }

    /** The whole page (its layout height), as one PNG. */
    @SuppressWarnings("unchecked")
    private static void screenshot(String name) {
        byte[] png;
        try {
            // a short viewport first, so the content's height is the page's own, not the window's
            browser.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                    Map.of("width", 1280, "height", 200, "deviceScaleFactor", 1, "mobile", false));
            Map<String, Object> metrics = browser.executeCdpCommand("Page.getLayoutMetrics", Map.of());
            Map<String, Object> content = (Map<String, Object>) metrics.get("cssContentSize");
            int height = Math.min(4000, (int) Math.ceil(((Number) content.get("height")).doubleValue()) + 16);
            browser.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                    Map.of("width", 1280, "height", height, "deviceScaleFactor", 1, "mobile", false));
            png = browser.getScreenshotAs(OutputType.BYTES);
        } finally {
            browser.executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        }
        List<Path> dirs = new ArrayList<>(List.of(TestDirs.target().resolve("console-screenshots")));
        String extra = System.getProperty("gregor.console.screenshots");
        if (extra != null && !extra.isBlank()) {
            dirs.add(Path.of(extra));
        }
        for (Path dir : dirs) {
            try {
                Files.createDirectories(dir);
                Files.write(dir.resolve("console-" + name + ".png"), png);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
