//! The signed-in web end to end: Sign in with Slack through the fake's
//! OpenID Connect endpoints (state, nonce, audience, expiry and team all
//! checked), sessions that expire and end on logout (with a CSRF token),
//! and private incidents listed only to members of their channel.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::fake_slack::oidc::Identity;
use crate::helpers::{DECLARER, TestApp, declared_channel};

const CONFIG: &str = "[web]\npublic_url = \"https://rebound.example.com/\"\n";
const PUBLIC: &str = "https://rebound.example.com";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name=value` of the cookie `name` a response sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn pair(cookie: &str) -> String {
    cookie.split(';').next().unwrap().to_string()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

/// What a browser does from `/login` to Slack and back; the callback's
/// answer. `tamper` may change the callback URL and the login cookie.
async fn sign_in_with(app: &TestApp, tamper: impl Fn(String, String) -> (String, String)) -> reqwest::Response {
    let browser = browser();
    let login = browser.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let login_cookie = pair(&set_cookie(&login, "rebound_login").expect("a login cookie"));
    let authorize = location(&login);
    assert!(
        authorize.starts_with(&format!("http://{}/openid/connect/authorize?", app.fake.addr)),
        "{authorize}"
    );
    for part in [
        "response_type=code",
        "scope=openid",
        "state=",
        "nonce=",
        "client_id=",
        "redirect_uri=https%3A%2F%2Frebound.example.com%2Fauth%2Fslack%2Fcallback",
    ] {
        assert!(authorize.contains(part), "{part} in {authorize}");
    }
    let slack = browser.get(&authorize).send().await.unwrap();
    let back = location(&slack);
    assert!(back.starts_with(&format!("{PUBLIC}/auth/slack/callback?")), "{back}");
    let (back, login_cookie) = tamper(back, login_cookie);
    let callback = back.replace(PUBLIC, &app.base);
    browser.get(callback).header(COOKIE, login_cookie).send().await.unwrap()
}

/// Signs in as `identity`; the session cookie (`name=value`).
async fn signed_in(app: &TestApp, identity: Identity) -> String {
    app.fake.sign_in_as(identity);
    let answer = sign_in_with(app, |url, cookie| (url, cookie)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{:?}", answer.text().await);
    assert_eq!(location(&answer), "/");
    let cookie = set_cookie(&answer, "rebound_session").expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    pair(&cookie)
}

async fn page(app: &TestApp, path: &str, session: &str) -> reqwest::Response {
    browser()
        .get(format!("{}{path}", app.base))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap()
}

crate::both_backends!(
    a_member_signs_in_with_slack_sees_incidents_and_signs_out,
    config = CONFIG,
    |app: TestApp| async move {
        let anonymous = browser().get(format!("{}/", app.base)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&anonymous), "/login");

        declared_channel(&app, "open Checkout <b>errors</b> sev2").await;
        app.wait_until_outbox_empty().await;
        let session = signed_in(&app, Identity::default()).await;
        let home = page(&app, "/", &session).await;
        assert_eq!(home.status(), StatusCode::OK);
        let policy = home.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(
            policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"),
            "{policy}"
        );
        let html = home.text().await.unwrap();
        assert!(html.contains("INC-1"), "{html}");
        assert!(
            html.contains("Checkout &#60;b&#62;errors&#60;/b&#62;")
                || html.contains("Checkout &lt;b&gt;errors&lt;/b&gt;"),
            "escaped: {html}"
        );
        assert!(html.contains("Dana Declarer"));
        let filtered = page(&app, "/incidents?status=resolved", &session)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !filtered.contains("INC-1") && filtered.contains("No incidents match"),
            "{filtered}"
        );
        let sev2 = page(&app, "/incidents?severity=sev2&since=2020-01-01", &session)
            .await
            .text()
            .await
            .unwrap();
        assert!(sev2.contains("INC-1"), "{sev2}");

        // Signing out needs the session's CSRF token.
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let forged = browser()
            .post(format!("{}/logout", app.base))
            .header(COOKIE, &session)
            .form(&[("csrf", "not-the-token")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            page(&app, "/", &session).await.status(),
            StatusCode::OK,
            "still signed in"
        );
        let out = browser()
            .post(format!("{}/logout", app.base))
            .header(COOKIE, &session)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::OK);
        assert!(set_cookie(&out, "rebound_session").unwrap().contains("Max-Age=0"));
        assert!(out.text().await.unwrap().contains("You are signed out"));
        assert_eq!(
            page(&app, "/", &session).await.status(),
            StatusCode::SEE_OTHER,
            "the session is revoked"
        );
    }
);

crate::both_backends!(
    forged_replayed_and_foreign_sign_ins_get_no_session,
    config = CONFIG,
    |app: TestApp| async move {
        let refused = |answer: &reqwest::Response| set_cookie(answer, "rebound_session").is_none();
        // Another browser's state (login CSRF): the cookie does not match.
        let other_browser = sign_in_with(&app, |url, _| (url, "rebound_login=someone-elses".into())).await;
        assert_eq!(other_browser.status(), StatusCode::BAD_REQUEST);
        assert!(refused(&other_browser));
        // The same callback twice: a state works once.
        let replayed = std::sync::Mutex::new(None);
        let first = sign_in_with(&app, |url, cookie| {
            *replayed.lock().unwrap() = Some((url.clone(), cookie.clone()));
            (url, cookie)
        })
        .await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let (url, cookie) = replayed.lock().unwrap().clone().unwrap();
        let again = browser()
            .get(url.replace(PUBLIC, &app.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
        assert!(refused(&again));

        let cases = [
            (
                "another login's nonce",
                Identity {
                    nonce: Some("replayed-nonce".into()),
                    ..Identity::default()
                },
                StatusCode::UNAUTHORIZED,
            ),
            (
                "another app's token",
                Identity {
                    audience: Some("1111.2222".into()),
                    ..Identity::default()
                },
                StatusCode::UNAUTHORIZED,
            ),
            (
                "an expired token",
                Identity {
                    expires_in: -600,
                    ..Identity::default()
                },
                StatusCode::UNAUTHORIZED,
            ),
            (
                "another workspace",
                Identity {
                    team: "T9OTHER".into(),
                    ..Identity::default()
                },
                StatusCode::FORBIDDEN,
            ),
        ];
        for (what, identity, status) in cases {
            app.fake.sign_in_as(identity);
            let answer = sign_in_with(&app, |url, cookie| (url, cookie)).await;
            assert_eq!(answer.status(), status, "{what}");
            assert!(refused(&answer), "{what}");
        }
        // A code from nowhere, and Slack saying no.
        app.fake.sign_in_as(Identity::default());
        let made_up = sign_in_with(&app, |url, cookie| {
            let code = url
                .split("code=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_string();
            (url.replace(&code, "code-made-up"), cookie)
        })
        .await;
        assert_eq!(made_up.status(), StatusCode::UNAUTHORIZED);
        let denied = browser()
            .get(format!("{}/auth/slack/callback?error=access_denied&state=x", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);

        // An expired session is no session.
        let session = signed_in(&app, Identity::default()).await;
        assert_eq!(page(&app, "/", &session).await.status(), StatusCode::OK);
        let listed = sessions_cli(&app, &["list"]);
        assert!(
            listed.contains("Dana Declarer") && listed.contains(DECLARER),
            "{listed}"
        );
        assert!(
            !listed.contains(session.trim_start_matches("rebound_session=")),
            "no token: {listed}"
        );
        let ended = sessions_cli(&app, &["revoke", "--user", DECLARER]);
        assert!(!ended.contains("ended 0"), "{ended}");
        assert_eq!(page(&app, "/", &session).await.status(), StatusCode::SEE_OTHER);
        assert!(
            !sessions_cli(&app, &["list"]).contains(DECLARER),
            "none of theirs is live"
        );
        let everyone = signed_in(&app, Identity::default()).await;
        assert!(sessions_cli(&app, &["revoke", "--all"]).contains("ended 1 session(s)"));
        assert_eq!(page(&app, "/", &everyone).await.status(), StatusCode::SEE_OTHER);
        assert!(sessions_cli(&app, &["list"]).contains("0 live session(s)"));
        let token = session.trim_start_matches("rebound_session=");
        let stored: i64 = crate::helpers::scalar(
            &app,
            &format!("SELECT COUNT(*) FROM web_sessions WHERE token_hash = '{token}'"),
        )
        .await;
        assert_eq!(stored, 0, "only the token's hash is stored");
        let hostile = page(
            &app,
            "/incidents?since=%2B262143-12-31&status=%3Cscript%3E",
            &signed_in(&app, Identity::default()).await,
        )
        .await;
        assert_eq!(
            hostile.status(),
            StatusCode::OK,
            "a hostile filter is ignored, not an error"
        );
    }
);

crate::both_backends!(
    a_private_incident_is_listed_only_to_members_of_its_channel,
    config = CONFIG,
    |app: TestApp| async move {
        declared_channel(&app, "open --private Credential leak in billing sev1").await;
        app.wait_until_outbox_empty().await;
        let outsider = signed_in(
            &app,
            Identity {
                user: "U0OUTSIDER".into(),
                name: "Olly Outsider".into(),
                ..Identity::default()
            },
        )
        .await;
        let seen = page(&app, "/", &outsider).await.text().await.unwrap();
        assert!(!seen.contains("Credential leak") && !seen.contains("INC-1"), "{seen}");
        let everything = page(&app, "/incidents", &outsider).await.text().await.unwrap();
        assert!(!everything.contains("Credential leak"), "{everything}");
        let member = signed_in(&app, Identity::default()).await;
        let seen = page(&app, "/", &member).await.text().await.unwrap();
        assert!(
            seen.contains("Credential leak in billing"),
            "the declarer is a member: {seen}"
        );
    }
);

crate::both_backends!(
    the_incident_page_shows_facts_updates_decisions_actions_and_timeline,
    config = CONFIG,
    |app: TestApp| async move {
        let channel = declared_channel(&app, "open Payments failing sev1").await;
        for text in [
            "update We are investigating failed card payments",
            "decision Roll back <https://deploy.example.com/42|deploy 42>",
            "action Add a canary for card payments <@U0OWNER> due 2026-12-31",
            "resolve rolled back",
        ] {
            app.command(text, DECLARER, &channel).await;
            app.wait_until_inbox_empty().await;
        }
        let private = declared_channel(&app, "open --private Secret rotation sev2").await;
        assert!(!private.is_empty());
        app.wait_until_outbox_empty().await;
        let member = signed_in(&app, Identity::default()).await;
        let html = page(&app, "/incidents/1", &member).await.text().await.unwrap();
        for expected in [
            "INC-1 Payments failing",
            "We are investigating failed card payments",
            "Roll back deploy 42 (https://deploy.example.com/42)",
            "Add a canary for card payments",
            "@U0OWNER",
            "2026-12-31 17:00 UTC",
            "rolled back",
            "Impact started",
            "post-mortem not done yet",
        ] {
            assert!(html.contains(expected), "{expected}: {html}");
        }
        let draft = page(&app, "/incidents/1/postmortem.md", &member).await;
        assert_eq!(draft.status(), StatusCode::OK);
        assert!(draft.text().await.unwrap().contains("Payments failing"));
        let members_private = page(&app, "/incidents/2", &member).await;
        assert_eq!(
            members_private.status(),
            StatusCode::OK,
            "the declarer is in its channel"
        );

        let outsider = signed_in(
            &app,
            Identity {
                user: "U0OUTSIDER".into(),
                ..Identity::default()
            },
        )
        .await;
        for path in [
            "/incidents/2",
            "/incidents/2/postmortem",
            "/incidents/2/postmortem.md",
            "/incidents/99",
            "/incidents/x",
        ] {
            let answer = page(&app, path, &outsider).await;
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(!answer.text().await.unwrap().contains("Secret rotation"), "{path}");
        }
        let anonymous = browser()
            .get(format!("{}/incidents/1/postmortem", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::SEE_OTHER,
            "post-mortems need a session on the public listener"
        );
    }
);

crate::both_backends!(
    the_failure_backlog_filters_and_keeps_private_tickets_to_their_members,
    config = CONFIG,
    |app: TestApp| async move {
        use crate::privacy::{INSIDER, flag};
        let public = app.fake.add_channel("payments", "UADMIN", false);
        flag(
            &app,
            &public,
            "Card payments time out <script>alert(1)</script>",
            "EvPublic",
        )
        .await;
        let secret = app.fake.add_channel("security-team", "UADMIN", true);
        app.fake.add_member(&secret, INSIDER);
        flag(&app, &secret, "Leaked deploy key in a gist", "EvSecret").await;
        app.command("failure 1 tag payments", DECLARER, &public).await;
        app.wait_until_inbox_empty().await;

        let outsider = signed_in(&app, Identity::default()).await;
        let html = page(&app, "/failures", &outsider).await.text().await.unwrap();
        assert!(html.contains("Card payments time out"), "{html}");
        assert!(!html.contains("<script>alert(1)</script>"), "escaped");
        assert!(
            html.contains("(a ticket in a private channel)") && !html.contains("Leaked deploy key"),
            "{html}"
        );
        let tagged = page(&app, "/failures?tag=payments", &outsider)
            .await
            .text()
            .await
            .unwrap();
        assert!(tagged.contains("#1 ") && !tagged.contains("#2 "), "{tagged}");
        let closed = page(&app, "/failures?status=closed", &outsider)
            .await
            .text()
            .await
            .unwrap();
        assert!(closed.contains("No failure tickets match"), "{closed}");
        let hostile = page(
            &app,
            "/failures?status=%27%3B%20DROP&owner=%00&tag=x%27%20OR%201%3D1",
            &outsider,
        )
        .await;
        assert_eq!(hostile.status(), StatusCode::OK);
        assert!(hostile.text().await.unwrap().contains("No failure tickets match"));

        let insider = signed_in(
            &app,
            Identity {
                user: INSIDER.into(),
                ..Identity::default()
            },
        )
        .await;
        let html = page(&app, "/failures", &insider).await.text().await.unwrap();
        assert!(
            html.contains("Leaked deploy key in a gist"),
            "a member reads it: {html}"
        );
    }
);

const WITH_COST: &str = "[web]\npublic_url = \"https://rebound.example.com/\"\ntrends_every = \"1s\"\n[cost]\ncurrency = \"EUR\"\n[cost.per_minute]\nsev1 = 100.0\n";

crate::both_backends!(
    the_metrics_page_charts_the_scripted_incidents_with_their_numbers,
    config = WITH_COST,
    |app: TestApp| async move {
        let first = declared_channel(&app, "open API down sev1").await;
        app.command("open Checkout slow sev1", DECLARER, "CGENERAL").await;
        app.wait_until_inbox_empty().await;
        app.command("resolve fixed", DECLARER, &first).await;
        app.wait_until_inbox_empty().await;
        let session = signed_in(&app, Identity::default()).await;
        let html = trends_computed_after(&app, &session, chrono::Utc::now()).await;
        assert_eq!(html.matches("<svg").count(), 5, "five charts: {html}");
        assert!(html.contains("currentColor"), "themed for dark mode");
        let week = rebound::domain::incident_metrics::iso_week(chrono::Utc::now(), chrono_tz::UTC);
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let row = |label: &str| -> String {
            html.split(&format!("<td>{label}</td>"))
                .nth(1)
                .and_then(|rest| rest.split("</tr>").next())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            html.contains(&format!("<td>{week}</td>")),
            "this week is charted: {html}"
        );
        let severities = html
            .split("Incidents per week by worst severity: the numbers")
            .nth(1)
            .unwrap()
            .split(&format!("<td>{week}</td>"))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
            .to_string();
        assert!(
            severities.starts_with("<td>2</td><td>0</td><td>0</td><td>0</td><td>0</td>"),
            "two sev1 this week: {severities}"
        );
        assert!(
            row(&week).starts_with("<td>2</td>"),
            "two incidents in the mean-times table: {}",
            row(&week)
        );
        let costs = html.split("Downtime cost by month (EUR): the numbers").nth(1).unwrap();
        assert!(costs.contains(&format!("<td>{month}</td><td>")), "{costs}");
    }
);

/// The metrics page once its background computation has caught up with
/// `moment` (the trends are recomputed every `trends_every`, never per visit).
async fn trends_computed_after(app: &TestApp, session: &str, moment: chrono::DateTime<chrono::Utc>) -> String {
    for _ in 0..100 {
        let html = page(app, "/metrics-dashboard", session).await.text().await.unwrap();
        let computed = html
            .split("<time datetime=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok());
        if computed.is_some_and(|at| at > moment) {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the dashboard's trends were not recomputed within 10 s");
}

/// `rebound sessions …` against the app's database, its stdout.
fn sessions_cli(app: &TestApp, args: &[&str]) -> String {
    app.cli(&[&["sessions"], args].concat())
}
