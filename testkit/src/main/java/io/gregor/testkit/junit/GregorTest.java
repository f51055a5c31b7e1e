package io.gregor.testkit.junit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * One {@link io.gregor.testkit.GregorCluster} for the test class, started before its first test and closed
 * after its last; a {@code GregorCluster} parameter of a constructor, lifecycle or test method receives it.
 * Classes running in parallel each get their own cluster.
 *
 * <pre>{@code
 * @GregorTest(brokers = 3, properties = "num.partitions=6")
 * class OrdersTest {
 *     @Test
 *     void roundTrip(GregorCluster cluster) { ... cluster.bootstrapServers() ... }
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(GregorExtension.class)
public @interface GregorTest {
    /** How many brokers; more than one runs an in-process ZooKeeper. */
    int brokers() default 1;

    /** Broker settings as {@code key=value}, server.properties keys. */
    String[] properties() default {};
}
