fn main() {
    let key = keyward::SecretString::from("not-a-real-key-000000");
    println!("{}", key);
}
