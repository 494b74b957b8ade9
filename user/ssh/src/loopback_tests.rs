//! In-memory sessions between [`ClientConn`] and [`ServerConn`]: the whole protocol, both
//! roles, no sockets.

use alloc::string::String;
use alloc::vec::Vec;

use crate::authorized_keys::AuthorizedKeys;
use crate::client::{ClientConfig, ClientConn, ClientEvent};
use crate::error::Error;
use crate::keys::KeyPair;
use crate::server::{ExitReport, ServerConfig, ServerConn, ServerEvent, Setup};

fn pair(user_key: KeyPair, command: Option<&str>) -> (ClientConn, ServerConn) {
    let s = ServerConn::new(ServerConfig {
        host_key: KeyPair::from_seed(&[1; 32]),
        authorized: AuthorizedKeys {
            keys: alloc::vec![KeyPair::from_seed(&[2; 32]).public()],
            skipped: 0,
        },
        password: None,
    })
    .unwrap();
    let c = ClientConn::new(ClientConfig {
        user: String::from("root"),
        key: user_key,
        command: command.map(String::from),
    })
    .unwrap();
    (c, s)
}

/// Runs both sides; `on_server` plays the process. Returns all events or the first error.
fn run(
    c: &mut ClientConn,
    s: &mut ServerConn,
    mut on_server: impl FnMut(&mut ServerConn, &ServerEvent),
) -> Result<(Vec<ClientEvent>, Vec<ServerEvent>), Error> {
    let (mut ce, mut se) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        s.feed(&c.take_output())?;
        while let Some(e) = s.poll()? {
            on_server(s, &e);
            se.push(e);
        }
        c.feed(&s.take_output())?;
        while let Some(e) = c.poll()? {
            if let ClientEvent::HostKey(_) = e {
                c.accept_host_key()?;
            }
            if let ClientEvent::Data { data, .. } = &e {
                c.consumed(data.len())?;
            }
            ce.push(e);
        }
    }
    Ok((ce, se))
}

#[test]
fn exec_returns_output_and_exit_status() {
    let (mut c, mut s) = pair(KeyPair::from_seed(&[2; 32]), Some("echo hi; exit 3"));
    let (ce, se) = run(&mut c, &mut s, |s, e| {
        if let ServerEvent::Run { channel, .. } = e {
            s.send_data(*channel, false, b"hi\n").unwrap();
            s.send_data(*channel, true, b"warn\n").unwrap();
            s.exit(*channel, ExitReport::Code(3)).unwrap();
        }
    })
    .unwrap();
    assert_eq!(
        se[0],
        ServerEvent::Authenticated {
            user: "root".into(),
            method: "publickey"
        }
    );
    assert_eq!(
        se[1],
        ServerEvent::Run {
            channel: 0,
            command: Some("echo hi; exit 3".into()),
            setup: Setup::default(),
        }
    );
    assert_eq!(se[2], ServerEvent::Closed { channel: 0 });
    assert_eq!(
        ce,
        [
            ClientEvent::HostKey(KeyPair::from_seed(&[1; 32]).public()),
            ClientEvent::Started,
            ClientEvent::Data {
                stderr: false,
                data: b"hi\n".to_vec()
            },
            ClientEvent::Data {
                stderr: true,
                data: b"warn\n".to_vec()
            },
            ClientEvent::ExitStatus(3),
            ClientEvent::Closed,
        ]
    );
}

#[test]
fn shell_receives_input_and_eof_and_signal_is_reported() {
    let (mut c, mut s) = pair(KeyPair::from_seed(&[2; 32]), None);
    let play = |s: &mut ServerConn, e: &ServerEvent| match e {
        ServerEvent::Data { channel, data } => s.consumed(*channel, data.len()).unwrap(),
        ServerEvent::Eof { channel } => s.exit(*channel, ExitReport::Signal(9)).unwrap(),
        _ => {}
    };
    let (mut ce, mut se) = run(&mut c, &mut s, play).unwrap();
    assert!(ce.contains(&ClientEvent::Started));
    assert_eq!(c.send_data(b"ls\n"), Ok(3));
    c.send_eof().unwrap();
    let (ce2, se2) = run(&mut c, &mut s, play).unwrap();
    ce.extend(ce2);
    se.extend(se2);
    assert!(se.contains(&ServerEvent::Run {
        channel: 0,
        command: None,
        setup: Setup::default(),
    }));
    assert!(se.contains(&ServerEvent::Data {
        channel: 0,
        data: b"ls\n".to_vec()
    }));
    assert!(se.contains(&ServerEvent::Eof { channel: 0 }));
    assert!(ce.contains(&ClientEvent::ExitSignal("KILL".into())));
    assert_eq!(ce.last(), Some(&ClientEvent::Closed));
}

#[test]
fn unknown_user_key_is_refused() {
    let (mut c, mut s) = pair(KeyPair::from_seed(&[3; 32]), Some("true"));
    let err = run(&mut c, &mut s, |_, _| {}).unwrap_err();
    assert_eq!(
        err,
        Error::Refused("the server did not accept our public key")
    );
    assert_eq!(s.user(), None);
}
