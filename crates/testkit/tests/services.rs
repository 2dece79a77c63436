//! The testkit's services are real and check credentials: each is reachable, isolated space can be
//! created on it, and a wrong password or secret is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Duration;

use mysql_async::prelude::Queryable;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use tributary_testkit::{MysqlServer, PostgresServer, mysql, postgres, s3};

#[tokio::test]
async fn postgres_is_reachable_and_checks_passwords() {
    let server = postgres().await.unwrap();
    let database = server.create_database().await.unwrap();
    let client = server.connect(&database).await.unwrap();
    let row = client
        .query_one("SELECT current_database(), version()", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), database);
    assert!(row.get::<_, String>(1).starts_with("PostgreSQL"));

    let wrong = format!(
        "postgres://{}:wrong-{}@{}:{}/{database}",
        server.user(),
        server.password(),
        server.host(),
        server.port()
    );
    let Err(error) = tokio_postgres::connect(&wrong, tokio_postgres::NoTls).await else {
        panic!("a wrong password must fail")
    };
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
        "{error}"
    );
}

#[tokio::test]
async fn mysql_is_reachable_and_checks_passwords() {
    let server = mysql().await.unwrap();
    let database = server.create_database().await.unwrap();
    let mut conn = server.connect(Some(&database)).await.unwrap();
    let (current, version): (String, String) = conn
        .query_first("SELECT DATABASE(), VERSION()")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current, database);
    assert!(!version.is_empty());
    conn.disconnect().await.unwrap();

    let wrong = format!(
        "mysql://{}:wrong-{}@{}:{}/{database}",
        server.user(),
        server.password(),
        server.host(),
        server.port()
    );
    let Err(error) = mysql_async::Conn::from_url(wrong).await else {
        panic!("a wrong password must fail")
    };
    match error {
        mysql_async::Error::Server(server_error) => assert_eq!(server_error.code, 1045, "{server_error}"),
        other => panic!("expected access denied (1045), got {other}"),
    }
}

fn s3_client(bucket: &str, secret: &str) -> impl ObjectStoreExt {
    let server = s3().unwrap();
    AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_region(server.region())
        .with_bucket_name(bucket)
        .with_access_key_id(server.access_key())
        .with_secret_access_key(secret)
        .build()
        .unwrap()
}

#[tokio::test]
async fn s3_is_reachable_and_checks_signatures() {
    let server = s3().unwrap();
    let bucket = server.create_bucket().unwrap();
    let store = s3_client(&bucket, server.secret_key());
    let key = Path::from("reports/hello.txt");
    store.put(&key, PutPayload::from_static(b"hello")).await.unwrap();
    let body = store.get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"hello");

    let forged = s3_client(&bucket, "not-the-secret");
    let Err(error) = forged.get(&key).await else {
        panic!("a wrong secret must be refused")
    };
    assert!(
        error.to_string().contains("SignatureDoesNotMatch") || error.to_string().contains("403"),
        "{error}"
    );
}

/// The throwaway path works even when the environment names shared servers, and a dropped server leaves
/// nothing behind: its port closes and its data folder is deleted.
#[tokio::test]
async fn throwaway_servers_start_and_clean_up() {
    let pg = PostgresServer::start().await.unwrap();
    let client = pg.connect("postgres").await.unwrap();
    let data_dir: String = client.query_one("SHOW data_directory", &[]).await.unwrap().get(0);
    drop(client);
    let pg_port = pg.port();
    drop(pg);

    let my = MysqlServer::start().await.unwrap();
    let mut conn = my.connect(None).await.unwrap();
    let (my_dir,): (String,) = conn
        .query_first("SELECT @@datadir")
        .await
        .unwrap()
        .map(|d: String| (d,))
        .unwrap();
    conn.disconnect().await.unwrap();
    let my_port = my.port();
    drop(my);

    for (port, dir) in [(pg_port, data_dir), (my_port, my_dir)] {
        let refused = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        .map(|connected| connected.is_err())
        .unwrap_or(true);
        assert!(
            refused,
            "port {port} still accepts connections after the server was dropped"
        );
        assert!(!std::path::Path::new(&dir).exists(), "{dir} was not removed");
    }
}
