package dev.readsplit.spring.boot.it.secured;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** An application with Spring Security and Boot's default rules (everything authenticated), nothing else. */
@SpringBootApplication
public class SecuredApp {
}
