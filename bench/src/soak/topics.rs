//! The events' topics and the consumer groups that read them: which service's SQLite file
//! stages a topic's events (its outbox) and which keeps a group's inbox.

use platform::runtime::ServiceModule;

/// A topic and the service (its SQLite file) whose outbox stages its events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Topic {
    pub(crate) topic: &'static str,
    pub(crate) service: &'static str,
}

fn module<M: ServiceModule>() -> Topic {
    Topic {
        topic: M::TOPIC,
        service: M::NAME,
    }
}

pub(crate) fn topics() -> Vec<Topic> {
    vec![
        module::<trajectories::Trajectories>(),
        module::<testing::Testing>(),
        module::<municipalities::Municipalities>(),
        module::<ceremonies::Ceremonies>(),
        module::<recruitment::Recruitment>(),
        module::<interpreting::Interpreting>(),
    ]
}

/// A consumer group, the topic it reads and the service (its SQLite file) that keeps
/// its inbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Group {
    pub(crate) group: String,
    pub(crate) topic: String,
    pub(crate) service: &'static str,
}

/// Every consumer group of the platform (as the services' `consumers()` declare them).
pub(crate) fn groups() -> Vec<Group> {
    let t = |m: Topic| m.topic;
    let [traj, test, muni, cere, recr, inte] = [
        module::<trajectories::Trajectories>(),
        module::<testing::Testing>(),
        module::<municipalities::Municipalities>(),
        module::<ceremonies::Ceremonies>(),
        module::<recruitment::Recruitment>(),
        module::<interpreting::Interpreting>(),
    ];
    let list: [(&str, &str, Topic); 12] = [
        (testing::PROJECTION_GROUP, t(traj), test),
        (municipalities::projection::RESIDENTS_GROUP, t(traj), muni),
        (ceremonies::projection::ATTESTS_GROUP, t(traj), cere),
        (recruitment::projection::CONVERSION_GROUP, t(traj), recr),
        (interpreting::projection::TRAJECTORIES_GROUP, t(traj), inte),
        (trajectories::results::GROUP, t(test), traj),
        (trajectories::municipalities::GROUP, t(muni), traj),
        (municipalities::projection::MONITOR_GROUP, t(muni), muni),
        (ceremonies::projection::REGISTER_GROUP, t(muni), cere),
        (recruitment::projection::REGISTER_GROUP, t(muni), recr),
        (interpreting::projection::REGISTER_GROUP, t(muni), inte),
        (trajectories::brussels::GROUP, t(recr), traj),
    ];
    list.into_iter()
        .map(|(group, topic, consumer)| Group {
            group: group.to_owned(),
            topic: topic.to_owned(),
            service: consumer.service,
        })
        .collect()
}
